// A latency probe: a process that asks another process something every
// millisecond and records how long the answer took.
#pragma once

#include <algorithm>
#include <chrono>
#include <vector>

#include "bench_support.h"
#include "plexus/plexus.h"

namespace plexus::bench {

// The probe's question and answer: whatever is probed answers a ProbePing
// with a ProbePong to `from`.
struct ProbePing {
  Pid from;
};
struct ProbePong {};
// Ends the probe; it then says ProbeDone to its report pid.
struct StopProbe {};
struct ProbeDone {};

// One question: when it was due (the end of the probe's 1 ms wait) and when
// its answer came. The latency counts both how late the probe got to run and
// the round trip.
struct ProbeSample {
  Clock::time_point due;
  Clock::time_point done;
};

// Every millisecond, a ProbePing to `target`, until StopProbe.
inline Task<> probe(Context self, Pid target, Pid report, std::vector<ProbeSample>* samples) {
  for (;;) {
    auto due = Clock::now() + std::chrono::milliseconds(1);
    if (co_await self.receive<StopProbe>(std::chrono::milliseconds(1))) break;
    (void)self.send(target, ProbePing{self.self()});
    co_await self.receive<ProbePong>();
    samples->push_back({due, Clock::now()});
  }
  (void)self.send(report, ProbeDone{});
}

// The latencies, in milliseconds and sorted, of the samples that overlap
// [from, to].
inline std::vector<double> latencies_ms(const std::vector<ProbeSample>& samples,
                                        Clock::time_point from, Clock::time_point to) {
  std::vector<double> out;
  for (const ProbeSample& s : samples) {
    if (s.done < from || s.due > to) continue;
    out.push_back(std::chrono::duration<double, std::milli>(s.done - s.due).count());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace plexus::bench

// Helpers shared by the benchmarks: resident memory and waiting on counters.
#pragma once

#include <benchmark/benchmark.h>
#include <malloc.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <fstream>
#include <string>
#include <thread>

namespace plexus::bench {

// Resident set size of this process in bytes (VmRSS), as the Erlang twin
// reads it.
inline int64_t resident_bytes() {
  std::ifstream status("/proc/self/status");
  std::string key;
  while (status >> key) {
    if (key == "VmRSS:") {
      int64_t kb = 0;
      status >> kb;
      return kb * 1024;
    }
    status.ignore(1 << 20, '\n');
  }
  return 0;
}

// Bytes of heap in use (every malloc arena, and blocks mapped on their own):
// unlike the resident size, not blurred by memory freed but kept by malloc.
inline int64_t heap_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

// Gives freed heap back to the OS so that each run measures fresh growth.
inline void release_free_memory() { malloc_trim(0); }

using Clock = std::chrono::steady_clock;

// How every benchmark here runs: one timed iteration (the body times
// itself with SetIterationTime, leaving setup out), repeated three times.
inline void timed_runs(benchmark::internal::Benchmark* b) {
  b->Iterations(1)->Repetitions(3)->UseManualTime()->Unit(benchmark::kMillisecond);
}

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// Spins (politely) until `done()` or the deadline; false on timeout.
template <class F>
bool wait_until(F done, std::chrono::seconds deadline = std::chrono::seconds(120)) {
  auto end = Clock::now() + deadline;
  while (!done()) {
    if (Clock::now() > end) return false;
    std::this_thread::sleep_for(std::chrono::microseconds(200));
  }
  return true;
}

}  // namespace plexus::bench

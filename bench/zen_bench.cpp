// Benchmarks of the zen monitor (monitor/): node a in this process, node b in
// a forked child (it must crash in BM_ZenNodeDownCalm; in BM_ZenMonitorSetup
// it keeps each node's memory apart). Node b has 1,000,000 waiting
// processes; a "guild" process on node a zen-monitors them all.
//
// BM_ZenNodeDownCalm's Erlang twin (plain erlang:monitor) is in
// bench/erlang/plexus_remote_bench.erl. BM_ZenMonitorSetup has none: Erlang
// has no zen monitor to compare with.
#include <benchmark/benchmark.h>
#include <signal.h>
#include <sys/prctl.h>

#include <algorithm>
#include <vector>

#include "bench_support.h"
#include "latency_probe.h"
#include "node_support.h"
#include "plexus/node/node.h"
#include "plexus/plexus.h"
#include "plexus/zen.pb.h"
#include "plexus/zen/zen_monitor.h"
#include "plexus_bench/messages.pb.h"

namespace plexus::bench {
namespace {

using plexus_bench::MemoryReport;
using plexus_bench::MemoryRequest;
using plexus_bench::SwarmPids;
using plexus_bench::SwarmRequest;

constexpr uint32_t kTargets = 1'000'000;
constexpr uint32_t kSwarmChunk = 50'000;

// ---- Node b (the forked child)

// Answers SwarmRequest (spawns the waiters, sends their pids back in chunks)
// and MemoryRequest.
Task<> swarm(Context self) {
  Node& node = *Node::of(self);
  std::vector<Pid> waiters;
  for (;;) {
    Message m = *co_await self.receive_any(std::chrono::hours(24));
    if (auto* request = m.get_if<SwarmRequest>()) {
      Result<Pid> to = node.from_proto(request->reply_to());
      if (!to.ok()) continue;
      for (uint32_t i = 0; i < request->count(); ++i) {
        waiters.push_back(
            self.spawn([](Context c) -> Task<> { co_await c.receive<MemoryReport>(); }));
      }
      for (size_t at = 0; at < waiters.size(); at += kSwarmChunk) {
        SwarmPids chunk;
        node.to_proto(waiters[at], chunk.mutable_first());
        for (size_t i = at; i < std::min(waiters.size(), at + kSwarmChunk); ++i) {
          chunk.add_index(waiters[i].index);
          chunk.add_serial(waiters[i].serial);
        }
        chunk.set_last(at + kSwarmChunk >= waiters.size());
        (void)self.send(*to, std::move(chunk));
      }
    } else if (auto* request = m.get_if<MemoryRequest>()) {
      Result<Pid> to = node.from_proto(request->reply_to());
      if (!to.ok()) continue;
      MemoryReport report;
      report.set_heap_bytes(heap_bytes());
      (void)self.send(*to, std::move(report));
    }
  }
}

[[noreturn]] void run_zen_node(int ready_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  auto node = start_node("zen_b");
  if (!node) _exit(1);
  auto zen = zen::ZenMonitor::start(*node);
  if (!zen.ok() || !node->runtime().register_name("swarm", node->runtime().spawn(swarm)).ok() ||
      !announce(ready_fd, node->name())) {
    _exit(1);
  }
  for (;;) pause();  // until SIGKILL
}

// ---- Node a

// Node a with a zen monitor, connected to a forked node b with kTargets
// waiting processes whose pids it knows.
struct ZenPair {
  ForkedNode b;
  std::unique_ptr<Node> a;
  std::unique_ptr<zen::ZenMonitor> zen;
  std::unique_ptr<Inbox> inbox;
  std::vector<Pid> targets;

  ~ZenPair() {
    targets.clear();
    inbox.reset();
    zen.reset();
    b.kill_and_reap();
    a.reset();
  }

  template <class T>
  void fill_reply_to(T* request) {
    a->to_proto(inbox->pid(), request->mutable_reply_to());
  }

  // Node b's heap in use, or -1.
  int64_t b_heap_bytes() {
    MemoryRequest request;
    fill_reply_to(&request);
    if (!a->send(b.name, "swarm", request).ok()) return -1;
    std::optional<MemoryReport> report = inbox->receive<MemoryReport>(30s);
    return report ? report->heap_bytes() : -1;
  }

  // Returns once node b's Proxy has processed every instruction node a's
  // Connector sent: a ping behind them is answered.
  bool proxy_caught_up(uint64_t instructions) {
    if (!wait_until([&] { return zen->metrics().connector_sweep >= instructions; })) return false;
    zen::Ping ping;
    a->to_proto(inbox->pid(), ping.mutable_connector());
    if (!a->send(b.name, "plexus.zen.proxy", ping).ok()) return false;
    return inbox->receive<zen::Pong>(120s).has_value();
  }
};

// Starts the pair; empty `a` on failure.
std::unique_ptr<ZenPair> start_zen_pair(zen::Options options) {
  auto pair = std::make_unique<ZenPair>();
  pair->b = fork_node(run_zen_node);
  if (pair->b.name.empty()) return nullptr;
  pair->a = start_node("zen_a");
  if (!pair->a || !pair->a->connect(pair->b.name).ok()) return nullptr;
  auto zen = zen::ZenMonitor::start(*pair->a, options);
  if (!zen.ok()) return nullptr;
  pair->zen = std::move(*zen);
  pair->inbox = std::make_unique<Inbox>(pair->a->runtime());
  SwarmRequest request;
  request.set_count(kTargets);
  pair->fill_reply_to(&request);
  if (!pair->a->send(pair->b.name, "swarm", request).ok()) return nullptr;
  for (;;) {
    std::optional<SwarmPids> chunk = pair->inbox->receive<SwarmPids>(120s);
    if (!chunk) return nullptr;
    Result<Pid> first = pair->a->from_proto(chunk->first());
    if (!first.ok()) return nullptr;
    for (int i = 0; i < chunk->index_size(); ++i) {
      pair->targets.push_back(Pid{first->node, chunk->index(i), chunk->serial(i)});
    }
    if (chunk->last()) break;
  }
  if (pair->targets.size() != kTargets) return nullptr;
  return pair;
}

// Connectors sweep every 10 ms with chunks of 100,000: the defaults (5,000
// per 100 ms) cap setup at 50,000 monitors a second by design.
zen::Options fast_setup() {
  zen::Options options;
  options.connector_sweep_interval = 10ms;
  options.connector_chunk_size = 100'000;
  return options;
}

std::unique_ptr<ZenPair> start_zen_pair_or_skip(benchmark::State& state, zen::Options options) {
  std::unique_ptr<ZenPair> pair = start_zen_pair(options);
  if (!pair) state.SkipWithError("nodes did not start (or threads still ran at fork)");
  return pair;
}

struct Monitored {
  Clock::time_point end;
};

// The guild of BM_ZenMonitorSetup: monitors every target, says when done.
void monitor_all(Context self, const std::vector<Pid>* targets, Pid report) {
  for (Pid t : *targets) zen::monitor(self, t);
  (void)self.send(report, Monitored{Clock::now()});
}

// ---------------------------------------------------------------- BM_ZenMonitorSetup

// A process on node a zen-monitors 1,000,000 processes on node b. Timed: from
// its first monitor() until node b's Proxy has subscribed to every target
// (a ping sent behind the last instructions is answered), with fast_setup()'s
// sweeps. Counters: heap growth
// per monitor on each node (bytes in use, as malloc counts them).
void BM_ZenMonitorSetup(benchmark::State& state) {
  for (auto _ : state) {
    std::unique_ptr<ZenPair> pair = start_zen_pair_or_skip(state, fast_setup());
    if (!pair) break;
    int64_t a_before = heap_bytes();
    int64_t b_before = pair->b_heap_bytes();
    auto start = Clock::now();
    pair->a->runtime().spawn(monitor_all, &pair->targets, pair->inbox->pid());
    bool done =
        pair->inbox->receive<Monitored>(120s).has_value() && pair->proxy_caught_up(kTargets);
    double seconds = seconds_since(start);
    if (!done) {
      state.SkipWithError("the monitors were not set up");
      break;
    }
    state.SetIterationTime(seconds);
    int64_t a_after = heap_bytes();
    int64_t b_after = pair->b_heap_bytes();
    state.counters["a_bytes_per_monitor"] = static_cast<double>(a_after - a_before) / kTargets;
    state.counters["b_bytes_per_monitor"] = static_cast<double>(b_after - b_before) / kTargets;
  }
  state.SetItemsProcessed(state.iterations() * kTargets);
}
BENCHMARK(BM_ZenMonitorSetup)->Apply(timed_runs);

// ---------------------------------------------------------------- BM_ZenNodeDownCalm

struct AllDowns {
  Clock::time_point end;
  uint64_t nodedown;
};

// The guild: zen-monitors every target, then serves work (the latency
// probe's pings) and counts Downs.
Task<> guild(Context self, const std::vector<Pid>* targets, Pid report) {
  for (Pid t : *targets) zen::monitor(self, t);
  (void)self.send(report, Monitored{Clock::now()});
  uint64_t downs = 0;
  uint64_t nodedown = 0;
  while (downs < targets->size()) {
    co_await self.receive([&](ProbePing& w) { (void)self.send(w.from, ProbePong{}); },
                          [&](zen::Down& d) {
                            ++downs;
                            nodedown += zen::is_nodedown(d.reason);
                          });
  }
  (void)self.send(report, AllDowns{Clock::now(), nodedown});
  for (;;) {
    ProbePing w = co_await self.receive<ProbePing>();
    (void)self.send(w.from, ProbePong{});
  }
}

// Node a's guild zen-monitors 1,000,000 processes on node b and serves a
// `work` request every millisecond; node b is killed with SIGKILL. Timed:
// from the kill until the guild has every Down (each must be nodedown), at
// the dispatcher's rate, set here to 20,000 per 100 ms (200,000 a second:
// the 1,000,000 Downs take 5 s; the default, 10,000 a second, would take
// 100 s). Counters: the guild's work latency during that time, its 99th
// percentile and worst (work_p99_ms, work_max_ms), and all_downs_s.
void BM_ZenNodeDownCalm(benchmark::State& state) {
  zen::Options options = fast_setup();
  options.demand_amount = 20'000;
  for (auto _ : state) {
    std::unique_ptr<ZenPair> pair = start_zen_pair_or_skip(state, options);
    if (!pair) break;
    Runtime& rt = pair->a->runtime();
    Inbox& inbox = *pair->inbox;
    Pid g = rt.spawn(guild, &pair->targets, inbox.pid());
    if (!inbox.receive<Monitored>(120s) || !pair->proxy_caught_up(kTargets)) {
      state.SkipWithError("the monitors were not set up");
      break;
    }
    std::vector<ProbeSample> samples;
    samples.reserve(1 << 17);
    Pid w = rt.spawn(probe, g, inbox.pid(), &samples);
    // Let the worker settle into its rhythm first.
    std::this_thread::sleep_for(200ms);
    auto start = Clock::now();
    kill(pair->b.pid, SIGKILL);
    std::optional<AllDowns> all = inbox.receive<AllDowns>(600s);
    (void)rt.send(w, StopProbe{});
    bool worker_done = inbox.receive<ProbeDone>(10s).has_value();
    if (!all || !worker_done) {
      state.SkipWithError("the Downs did not all arrive");
      break;
    }
    double seconds = std::chrono::duration<double>(all->end - start).count();
    state.SetIterationTime(seconds);
    std::vector<double> work = latencies_ms(samples, start, all->end);
    if (work.empty()) {
      state.SkipWithError("no work samples during the storm");
      break;
    }
    state.counters["all_downs_s"] = seconds;
    state.counters["work_p99_ms"] = work[work.size() * 99 / 100];
    state.counters["work_max_ms"] = work.back();
    state.counters["work_samples"] = static_cast<double>(work.size());
    if (all->nodedown != kTargets) {
      state.SkipWithError("a Down was not nodedown");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations() * kTargets);
}
BENCHMARK(BM_ZenNodeDownCalm)->Apply(timed_runs);

}  // namespace
}  // namespace plexus::bench

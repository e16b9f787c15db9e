// Benchmarks of the local runtime. Each reports items_per_second over the
// phase named in its comment; bench/erlang/ has the Erlang twin of each.
#include <benchmark/benchmark.h>

#include <atomic>
#include <vector>

#include "bench_support.h"
#include "plexus/plexus.h"

namespace plexus::bench {
namespace {

using namespace std::chrono_literals;

struct Stop {};
struct Ping {
  Pid from;
};
struct Pong {};
struct Item {
  uint64_t value;
};
struct Go {};

RuntimeOptions bench_options() {
  RuntimeOptions options;
  options.log_level = LogLevel::kError;
  return options;
}

// Spawns 1,000,000 processes that each reach a receive and wait there, then
// kills them. Timed: the spawn phase, until every process is waiting.
// bytes_per_process: resident memory growth over that phase / processes.
void BM_Spawn(benchmark::State& state) {
  constexpr int kProcesses = 1'000'000;
  for (auto _ : state) {
    release_free_memory();
    Runtime rt(bench_options());
    std::vector<Pid> pids(kProcesses);  // allocated before the baseline
    std::atomic<int> waiting{0};
    std::atomic<bool> spawned{false};
    int64_t rss_before = resident_bytes();
    auto start = Clock::now();
    rt.spawn([&pids, &waiting, &spawned](Context self) -> Task<> {
      for (int i = 0; i < kProcesses; ++i) {
        pids[i] = self.spawn(
            [](Context child, std::atomic<int>* counter) -> Task<> {
              counter->fetch_add(1, std::memory_order_relaxed);
              co_await child.receive<Stop>();
            },
            &waiting);
        if ((i & 1023) == 1023) co_await self.yield();
      }
      spawned.store(true);
    });
    wait_until(
        [&] { return spawned.load() && waiting.load(std::memory_order_relaxed) == kProcesses; });
    double elapsed = seconds_since(start);
    int64_t rss_after = resident_bytes();
    state.SetIterationTime(elapsed);
    state.counters["bytes_per_process"] = static_cast<double>(rss_after - rss_before) / kProcesses;
    for (Pid pid : pids) rt.exit(pid, ExitReason::kill());
    wait_until([&] { return rt.process_count() == 0; });
  }
  state.SetItemsProcessed(state.iterations() * kProcesses);
}
BENCHMARK(BM_Spawn)->Apply(timed_runs);

// Two processes, 1,000,000 round trips.
void BM_PingPong(benchmark::State& state) {
  constexpr int kRoundTrips = 1'000'000;
  for (auto _ : state) {
    Runtime rt(bench_options());
    Inbox done(rt);
    Pid ponger = rt.spawn([](Context self) -> Task<> {
      for (;;) {
        bool stop = false;
        co_await self.receive([&](Ping& p) { self.send(p.from, Pong{}); },
                              [&](Stop&) { stop = true; });
        if (stop) co_return;
      }
    });
    auto start = Clock::now();
    rt.spawn(
        [](Context self, Pid ponger, Pid done) -> Task<> {
          for (int i = 0; i < kRoundTrips; ++i) {
            self.send(ponger, Ping{self.self()});
            co_await self.receive<Pong>();
          }
          self.send(ponger, Stop{});
          self.send(done, Go{});
        },
        ponger, done.pid());
    if (!done.receive<Go>(120s)) state.SkipWithError("ping-pong did not finish");
    state.SetIterationTime(seconds_since(start));
  }
  state.SetItemsProcessed(state.iterations() * kRoundTrips);
}
BENCHMARK(BM_PingPong)->Apply(timed_runs);

// 2 producers send 5,000,000 small messages in total to one consumer. Timed:
// until the consumer has received them all.
void BM_FanIn(benchmark::State& state) {
  constexpr uint64_t kMessages = 5'000'000;
  constexpr uint64_t kProducers = 2;
  for (auto _ : state) {
    Runtime rt(bench_options());
    Inbox done(rt);
    Pid consumer = rt.spawn(
        [](Context self, Pid done) -> Task<> {
          uint64_t sum = 0;
          for (uint64_t i = 0; i < kMessages; ++i) sum += (co_await self.receive<Item>()).value;
          self.send(done, Item{sum});
        },
        done.pid());
    auto start = Clock::now();
    for (uint64_t p = 0; p < kProducers; ++p) {
      rt.spawn(
          [](Context self, Pid consumer) -> Task<> {
            for (uint64_t i = 0; i < kMessages / kProducers; ++i) {
              self.send(consumer, Item{1});
              if ((i & 255) == 255) co_await self.yield();
            }
          },
          consumer);
    }
    std::optional<Item> sum = done.receive<Item>(120s);
    state.SetIterationTime(seconds_since(start));
    if (!sum || sum->value != kMessages) state.SkipWithError("fan-in lost messages");
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
}
BENCHMARK(BM_FanIn)->Apply(timed_runs);

// Spawns `n` processes waiting in receive (outside the timed phase).
std::vector<Pid> spawn_waiters(Runtime& rt, int n) {
  std::vector<Pid> pids;
  pids.reserve(n);
  for (int i = 0; i < n; ++i) {
    pids.push_back(rt.spawn([](Context self) -> Task<> { co_await self.receive<Stop>(); }));
  }
  return pids;
}

// A process kills every pid in `victims` once it receives Go: the kills come
// from one process, as in the Erlang twin.
Pid spawn_killer(Runtime& rt, const std::vector<Pid>& victims) {
  return rt.spawn([&victims](Context self) -> Task<> {
    co_await self.receive<Go>();
    for (size_t i = 0; i < victims.size(); ++i) {
      self.exit(victims[i], ExitReason::kill());
      if ((i & 4095) == 4095) co_await self.yield();
    }
  });
}

// One process monitors 1,000,000 processes; they are all killed. Timed: from
// the first kill until the monitoring process has every Down.
void BM_MonitorDown(benchmark::State& state) {
  constexpr int kProcesses = 1'000'000;
  for (auto _ : state) {
    Runtime rt(bench_options());
    Inbox ready(rt);
    std::vector<Pid> victims = spawn_waiters(rt, kProcesses);
    Pid watcher = rt.spawn(
        [&victims](Context self, Pid ready) -> Task<> {
          for (Pid pid : victims) self.monitor(pid);
          self.send(ready, Go{});
          for (int i = 0; i < kProcesses; ++i) co_await self.receive<Down>();
          self.send(ready, Stop{});
        },
        ready.pid());
    (void)watcher;
    ready.receive<Go>(120s);
    Pid killer = spawn_killer(rt, victims);
    auto start = Clock::now();
    rt.send(killer, Go{});
    if (!ready.receive<Stop>(120s)) state.SkipWithError("Downs missing");
    state.SetIterationTime(seconds_since(start));
  }
  state.SetItemsProcessed(state.iterations() * kProcesses);
}
BENCHMARK(BM_MonitorDown)->Apply(timed_runs);

// 100,000 workers linked to one parent that traps exits are killed. Timed:
// from the first kill until the parent has every Exit.
void BM_LinkExit(benchmark::State& state) {
  constexpr int kWorkers = 100'000;
  for (auto _ : state) {
    Runtime rt(bench_options());
    Inbox ready(rt);
    std::vector<Pid> workers(kWorkers);
    rt.spawn(
        [&workers](Context self, Pid ready) -> Task<> {
          self.trap_exit(true);
          for (int i = 0; i < kWorkers; ++i) {
            workers[i] = self.spawn_link([](Context w) -> Task<> { co_await w.receive<Stop>(); });
          }
          self.send(ready, Go{});
          for (int i = 0; i < kWorkers; ++i) co_await self.receive<Exit>();
          self.send(ready, Stop{});
        },
        ready.pid());
    ready.receive<Go>(120s);
    Pid killer = spawn_killer(rt, workers);
    auto start = Clock::now();
    rt.send(killer, Go{});
    if (!ready.receive<Stop>(120s)) state.SkipWithError("Exits missing");
    state.SetIterationTime(seconds_since(start));
  }
  state.SetItemsProcessed(state.iterations() * kWorkers);
}
BENCHMARK(BM_LinkExit)->Apply(timed_runs);

}  // namespace
}  // namespace plexus::bench

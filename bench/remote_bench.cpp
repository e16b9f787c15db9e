// Benchmarks of the node transport: two nodes on 127.0.0.1 in one OS process.
// BM_NodeDownStorm is the exception: node b must crash, and destroying a
// Node is a clean stop (its processes exit with `shutdown` and those Downs
// reach the peers before the connection closes), so there node b runs in a
// forked child that is killed with SIGKILL.
// Each reports items_per_second over the phase named in its comment;
// bench/erlang/plexus_remote_bench.erl has the Erlang twin of each.
//
// Every node runs one scheduler thread (PLEXUS_BENCH_NODE_SCHEDULERS
// overrides it) besides its transport thread and its timer thread: two nodes
// then have one scheduler per core of a 2-core machine. Two per node was
// slower in every benchmark here (the transport threads need the cores too).
#include <benchmark/benchmark.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "bench_support.h"
#include "latency_probe.h"
#include "node_support.h"
#include "plexus/node/node.h"
#include "plexus/pid.pb.h"
#include "plexus/plexus.h"
#include "plexus_bench/messages.pb.h"

namespace plexus::bench {
namespace {

using namespace std::chrono_literals;
using plexus_bench::Ack;
using plexus_bench::Item;
using plexus_bench::NoArgs;

// Nodes a and b, connected.
struct NodePair {
  std::unique_ptr<Node> a;
  std::unique_ptr<Node> b;
  bool ok() const { return a && b; }
};

NodePair start_pair() {
  NodePair pair{start_node("bench_a"), start_node("bench_b")};
  if (!pair.ok() || !pair.a->connect(pair.b->name()).ok()) return {};
  return pair;
}

// A connected pair for one iteration; an error on `state` if there is none.
NodePair start_pair_or_skip(benchmark::State& state) {
  NodePair pair = start_pair();
  if (!pair.ok()) state.SkipWithError("nodes did not start or connect");
  return pair;
}

// `pid` of node `from` as node `to` names it.
Pid translate(Node& from, Node& to, Pid pid) {
  PidProto proto;
  from.to_proto(pid, &proto);
  auto result = to.from_proto(proto);
  return result.ok() ? *result : Pid{};
}

// What node a's side of the connection did over a phase of `items` items
// (messages, round trips, spawn requests): bytes written per item (frame
// headers included) and items per write call (the coalescing).
void report_transport(benchmark::State& state, const NodeStats& before, const NodeStats& after,
                      uint64_t items) {
  double bytes = static_cast<double>(after.bytes_out - before.bytes_out);
  double writes = static_cast<double>(after.writes - before.writes);
  state.counters["bytes_per_item"] = bytes / static_cast<double>(items);
  if (writes > 0) state.counters["items_per_write"] = static_cast<double>(items) / writes;
}

struct Finished {
  double seconds;
};

// ---------------------------------------------------------------- BM_RemoteSend

// A process on node a sends 1,000,000 small messages to a process on node b,
// which acks the last one. Timed: from the first send until the ack is back.
void BM_RemoteSend(benchmark::State& state) {
  constexpr uint64_t kMessages = 1'000'000;
  for (auto _ : state) {
    NodePair nodes = start_pair_or_skip(state);
    if (!nodes.ok()) break;
    Node& a = *nodes.a;
    Node& b = *nodes.b;
    {
      Inbox done(a.runtime());
      Pid receiver = b.runtime().spawn(
          [](Context self, Pid ack_to) -> Task<> {
            uint64_t in_order = 0;
            for (uint64_t i = 0; i < kMessages; ++i) {
              Item item = co_await self.receive<Item>();
              in_order += item.seq() == i;
            }
            Ack ack;
            ack.set_count(in_order);
            (void)self.send(ack_to, ack);
          },
          translate(a, b, done.pid()));
      Pid to = translate(b, a, receiver);
      NodeStats before = a.stats(b.name());
      auto start = Clock::now();
      a.runtime().spawn(
          [](Context self, Pid to) -> Task<> {
            Item item;
            for (uint64_t i = 0; i < kMessages; ++i) {
              item.set_seq(i);
              (void)self.send(to, item);
              if ((i & 1023) == 1023) co_await self.yield();
            }
          },
          to);
      std::optional<Ack> ack = done.receive<Ack>(120s);
      state.SetIterationTime(seconds_since(start));
      report_transport(state, before, a.stats(b.name()), kMessages);
      if (!ack || ack->count() != kMessages) state.SkipWithError("messages lost or out of order");
    }
  }
  state.SetItemsProcessed(state.iterations() * kMessages);
}
BENCHMARK(BM_RemoteSend)->Apply(timed_runs);

// ---------------------------------------------------------------- BM_RemotePingPong

struct StartPinging {
  Pid ponger;
};

// A process on node a and one on node b, 100,000 round trips. Timed inside
// the pinger: from its first ping to its last pong.
void BM_RemotePingPong(benchmark::State& state) {
  constexpr uint64_t kRoundTrips = 100'000;
  for (auto _ : state) {
    NodePair nodes = start_pair_or_skip(state);
    if (!nodes.ok()) break;
    Node& a = *nodes.a;
    Node& b = *nodes.b;
    {
      Inbox done(a.runtime());
      Pid pinger = a.runtime().spawn(
          [](Context self, Pid done) -> Task<> {
            Pid ponger = (co_await self.receive<StartPinging>()).ponger;
            plexus_bench::Ping ping;
            auto start = Clock::now();
            for (uint64_t i = 0; i < kRoundTrips; ++i) {
              ping.set_seq(i);
              (void)self.send(ponger, ping);
              co_await self.receive<plexus_bench::Pong>();
            }
            (void)self.send(done, Finished{seconds_since(start)});
          },
          done.pid());
      Pid ponger = b.runtime().spawn(
          [](Context self, Pid pinger) -> Task<> {
            plexus_bench::Pong pong;
            for (uint64_t i = 0; i < kRoundTrips; ++i) {
              pong.set_seq((co_await self.receive<plexus_bench::Ping>()).seq());
              (void)self.send(pinger, pong);
            }
          },
          translate(a, b, pinger));
      NodeStats before = a.stats(b.name());
      (void)a.runtime().send(pinger, StartPinging{translate(b, a, ponger)});
      std::optional<Finished> finished = done.receive<Finished>(120s);
      if (!finished) {
        state.SkipWithError("ping-pong did not finish");
        break;
      }
      state.SetIterationTime(finished->seconds);
      report_transport(state, before, a.stats(b.name()), kRoundTrips);
    }
  }
  state.SetItemsProcessed(state.iterations() * kRoundTrips);
}
BENCHMARK(BM_RemotePingPong)->Apply(timed_runs);

// ---------------------------------------------------------------- BM_RemoteSpawn

Task<> do_nothing(Context, NoArgs) { co_return; }

// A process on node a asks node b for 100,000 processes that exit at once,
// pipelined: every spawn_request first, then every SpawnReply. Timed inside
// the requester: from the first request to the last reply.
void BM_RemoteSpawn(benchmark::State& state) {
  constexpr int kSpawns = 100'000;
  for (auto _ : state) {
    NodePair nodes = start_pair();
    if (!nodes.ok() || !nodes.b->register_process<NoArgs>("noop", do_nothing).ok()) {
      state.SkipWithError("nodes did not start or connect");
      break;
    }
    Node& a = *nodes.a;
    Node& b = *nodes.b;
    {
      Inbox done(a.runtime());
      struct Outcome {
        double seconds;
        int ok;
      };
      NodeStats before = a.stats(b.name());
      a.runtime().spawn(
          [](Context self, std::string node, Pid done) -> Task<> {
            Node* local = Node::of(self);
            NoArgs args;
            auto start = Clock::now();
            for (int i = 0; i < kSpawns; ++i)
              (void)local->spawn_request(self.self(), node, "noop", args);
            int ok = 0;
            for (int i = 0; i < kSpawns; ++i) {
              SpawnReply reply = co_await self.receive<SpawnReply>();
              ok += reply.status.ok();
            }
            (void)self.send(done, Outcome{seconds_since(start), ok});
          },
          b.name(), done.pid());
      std::optional<Outcome> outcome = done.receive<Outcome>(120s);
      if (!outcome) {
        state.SkipWithError("spawn replies missing");
        break;
      }
      state.SetIterationTime(outcome->seconds);
      report_transport(state, before, a.stats(b.name()), kSpawns);
      if (outcome->ok != kSpawns) state.SkipWithError("some remote spawns failed");
    }
  }
  state.SetItemsProcessed(state.iterations() * kSpawns);
}
BENCHMARK(BM_RemoteSpawn)->Apply(timed_runs);

// ---------------------------------------------------------------- BM_NodeDownStorm

// Node b for the storm, in a forked child: it serves remote spawns of
// "waiter" until it is killed. Writes its name and a newline to `ready_fd`.
[[noreturn]] void run_storm_node(int ready_fd) {
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  auto node = start_node("storm_b");
  if (!node ||
      !node->register_process<NoArgs>(
               "waiter", [](Context self, NoArgs) -> Task<> { co_await self.receive<Item>(); })
           .ok() ||
      !announce(ready_fd, node->name())) {
    _exit(1);
  }
  for (;;) pause();  // until SIGKILL
}

struct Ready {};
struct StormOver {
  Clock::time_point end;
  int noconnection;
  int other;
};
// Node b (another OS process) has 100,000 processes; one process on node a
// monitors them all (plain remote monitors), then b is killed with SIGKILL:
// a crash, the connection drops. Timed: from the kill until a's monitoring
// process has every Down (each must say noconnection). Meanwhile a local
// pair on a pings every millisecond: a ping's latency is the time from when
// it was due (the end of the pinger's 1 ms wait) to its pong, so it counts
// both how late the pinger got to run and the round trip. worst_ping_us is
// the largest of the pings that overlap the storm, quiet_ping_us of those in
// the 200 ms before the kill (the timer's granularity alone is up to 1 ms).
void BM_NodeDownStorm(benchmark::State& state) {
  constexpr int kProcesses = 100'000;
  constexpr auto kQuiet = 200ms;
  for (auto _ : state) {
    // b must be a separate OS process to crash.
    ForkedNode b = fork_node(run_storm_node);
    auto a = b.name.empty() ? nullptr : start_node("storm_a");
    if (!a || !a->connect(b.name).ok()) {
      b.kill_and_reap();
      state.SkipWithError("node b did not start or connect (or threads still ran at fork)");
      break;
    }
    std::string b_name = b.name;
    {
      Runtime& rt = a->runtime();
      Inbox inbox(rt);
      // The monitoring process: spawns the victims on b (pipelined), monitors
      // each, makes sure b has seen every monitor (a spawn round trip behind
      // them on the connection), then collects the Downs.
      rt.spawn(
          [](Context self, std::string b_name, Pid report) -> Task<> {
            Node* node = Node::of(self);
            NoArgs args;
            for (int i = 0; i < kProcesses; ++i) {
              (void)node->spawn_request(self.self(), b_name, "waiter", args);
            }
            for (int i = 0; i < kProcesses; ++i) {
              SpawnReply reply = co_await self.receive<SpawnReply>();
              if (reply.status.ok()) self.monitor(reply.pid);
            }
            (void)co_await node->spawn(self, b_name, "waiter", args);  // the barrier
            (void)self.send(report, Ready{});
            StormOver over{};
            for (int i = 0; i < kProcesses; ++i) {
              Down down = co_await self.receive<Down>();
              if (down.reason.kind() == ExitReason::Kind::kNoConnection) {
                ++over.noconnection;
              } else {
                ++over.other;
              }
            }
            over.end = Clock::now();
            (void)self.send(report, over);
          },
          b_name, inbox.pid());
      // The latency probe, against a local ponger.
      std::vector<ProbeSample> samples;
      samples.reserve(1 << 16);
      Pid ponger = rt.spawn([](Context self) -> Task<> {
        for (;;) {
          ProbePing p = co_await self.receive<ProbePing>();
          (void)self.send(p.from, ProbePong{});
        }
      });
      Pid pinger = rt.spawn(probe, ponger, inbox.pid(), &samples);

      bool ready = inbox.receive<Ready>(120s).has_value();
      std::this_thread::sleep_for(kQuiet);
      auto start = Clock::now();
      kill(b.pid, SIGKILL);
      std::optional<StormOver> over = ready ? inbox.receive<StormOver>(120s) : std::nullopt;
      (void)rt.send(pinger, StopProbe{});
      bool pinger_done = inbox.receive<ProbeDone>(10s).has_value();
      b.kill_and_reap();
      if (!ready || !over || !pinger_done) {
        state.SkipWithError("the storm did not complete");
        break;
      }
      double seconds = std::chrono::duration<double>(over->end - start).count();
      state.SetIterationTime(seconds);
      std::vector<double> storm = latencies_ms(samples, start, over->end);
      std::vector<double> quiet = latencies_ms(samples, start - kQuiet, start);
      state.counters["storm_ms"] = seconds * 1e3;
      state.counters["worst_ping_us"] = storm.empty() ? 0 : storm.back() * 1e3;
      state.counters["quiet_ping_us"] = quiet.empty() ? 0 : quiet.back() * 1e3;
      state.counters["storm_pings"] = static_cast<double>(storm.size());
      if (over->noconnection != kProcesses) {
        state.SkipWithError("a Down did not say noconnection");
        break;
      }
    }
  }
  state.SetItemsProcessed(state.iterations() * kProcesses);
}
BENCHMARK(BM_NodeDownStorm)->Apply(timed_runs);

}  // namespace
}  // namespace plexus::bench

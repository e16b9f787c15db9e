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
#include "plexus/pid.pb.h"
#include "plexus/plexus.h"
#include "plexus_bench/messages.pb.h"

namespace plexus::bench {
namespace {

using namespace std::chrono_literals;
using plexus_bench::Ack;
using plexus_bench::Item;
using plexus_bench::NoArgs;

constexpr char kCookie[] = "plexus-bench-cookie";

unsigned node_schedulers() {
  if (const char* env = std::getenv("PLEXUS_BENCH_NODE_SCHEDULERS")) {
    int n = std::atoi(env);
    if (n > 0) return static_cast<unsigned>(n);
  }
  return 1;
}

NodeOptions node_options(const std::string& base) {
  NodeOptions options;
  options.name = base + "@127.0.0.1:0";
  options.cookie = kCookie;
  options.runtime.schedulers = node_schedulers();
  options.runtime.log_level = LogLevel::kError;
  return options;
}

std::unique_ptr<Node> start_node(const std::string& base) {
  auto node = Node::start(node_options(base));
  if (!node.ok()) return nullptr;
  return std::move(*node);
}

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
           .ok()) {
    _exit(1);
  }
  std::string line = node->name() + "\n";
  if (write(ready_fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(1);
  close(ready_fd);
  for (;;) pause();  // until SIGKILL
}

// Reads the child's name line; empty on failure or after 30 s.
std::string read_line(int fd) {
  std::string line;
  auto deadline = Clock::now() + 30s;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return {};
    if (c == '\n') return line;
    line += c;
  }
  return {};
}

size_t thread_count() {
  size_t n = 0;
  for (auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++n;
  }
  return n;
}

struct Ready {};
struct StormOver {
  Clock::time_point end;
  int noconnection;
  int other;
};
struct LocalPing {
  Pid from;
};
struct LocalPong {};
struct StopPinging {};
// A ping of the latency probe: when it was due (the end of the pinger's
// 1 ms wait) and when its pong came back.
struct PingSample {
  Clock::time_point due;
  Clock::time_point done;
};
struct PingerDone {};

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
    // b must be a separate OS process to crash, and fork() is only safe
    // while this process has one thread (the nodes of earlier runs are gone).
    if (thread_count() != 1) {
      state.SkipWithError("threads still running; cannot fork node b");
      break;
    }
    int fds[2];
    if (pipe(fds) != 0) {
      state.SkipWithError("pipe failed");
      break;
    }
    pid_t child = fork();
    if (child == 0) {
      close(fds[0]);
      run_storm_node(fds[1]);
    }
    close(fds[1]);
    std::string b_name = child > 0 ? read_line(fds[0]) : std::string();
    close(fds[0]);
    auto a = b_name.empty() ? nullptr : start_node("storm_a");
    if (!a || !a->connect(b_name).ok()) {
      if (child > 0) {
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
      }
      state.SkipWithError("node b did not start or connect");
      break;
    }
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
      // The latency probe.
      std::vector<PingSample> samples;
      samples.reserve(1 << 16);
      Pid ponger = rt.spawn([](Context self) -> Task<> {
        for (;;) {
          bool stop = false;
          co_await self.receive([&](LocalPing& p) { (void)self.send(p.from, LocalPong{}); },
                                [&](StopPinging&) { stop = true; });
          if (stop) co_return;
        }
      });
      Pid pinger = rt.spawn(
          [](Context self, Pid ponger, Pid report, std::vector<PingSample>* samples) -> Task<> {
            for (;;) {
              auto due = Clock::now() + 1ms;
              if (co_await self.receive<StopPinging>(1ms)) break;
              (void)self.send(ponger, LocalPing{self.self()});
              co_await self.receive<LocalPong>();
              samples->push_back({due, Clock::now()});
            }
            (void)self.send(ponger, StopPinging{});
            (void)self.send(report, PingerDone{});
          },
          ponger, inbox.pid(), &samples);

      bool ready = inbox.receive<Ready>(120s).has_value();
      std::this_thread::sleep_for(kQuiet);
      auto start = Clock::now();
      kill(child, SIGKILL);
      std::optional<StormOver> over = ready ? inbox.receive<StormOver>(120s) : std::nullopt;
      (void)rt.send(pinger, StopPinging{});
      bool pinger_done = inbox.receive<PingerDone>(10s).has_value();
      waitpid(child, nullptr, 0);
      if (!ready || !over || !pinger_done) {
        state.SkipWithError("the storm did not complete");
        break;
      }
      double seconds = std::chrono::duration<double>(over->end - start).count();
      state.SetIterationTime(seconds);
      // The largest latency of the pings that overlap [from, to].
      auto worst_us = [&samples](Clock::time_point from, Clock::time_point to, int* count) {
        double worst = 0;
        for (const PingSample& s : samples) {
          if (s.done < from || s.due > to) continue;
          ++*count;
          worst =
              std::max(worst, std::chrono::duration<double, std::micro>(s.done - s.due).count());
        }
        return worst;
      };
      int storm_pings = 0;
      int quiet_pings = 0;
      state.counters["storm_ms"] = seconds * 1e3;
      state.counters["worst_ping_us"] = worst_us(start, over->end, &storm_pings);
      state.counters["quiet_ping_us"] = worst_us(start - kQuiet, start, &quiet_pings);
      state.counters["storm_pings"] = storm_pings;
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

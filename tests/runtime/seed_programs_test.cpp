// The programs of the Elixir processes chapter, ported to Plexus and checked:
// ping-pong, the KV store (by pid and by registered name), the heartbeat
// monitor, and the work pool scheduler that monitors its workers.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {
namespace {

class SeedProgramsTest : public SchedTest {};

// ---- Ping pong
//
//   defp loop do
//     receive do {:ping, sender} -> send sender, {:pong, self} end
//     loop
//   end

struct PingMsg {
  Pid sender;
};
struct PongMsg {
  Pid sender;
};
struct Rounds {
  int n;
};

Task<> ping_pong(Context self) {
  for (;;) {
    PingMsg ping = co_await self.receive<PingMsg>();
    self.send(ping.sender, PongMsg{self.self()});
  }
}

TEST_P(SeedProgramsTest, PingPongAnswersEveryPingWithItsPid) {
  Inbox inbox(rt());
  Pid pp = rt().spawn(ping_pong);
  for (int i = 0; i < 3; ++i) {
    inbox.context().send(pp, PingMsg{inbox.pid()});
    EXPECT_EQ(must_receive<PongMsg>(inbox).sender, pp);
  }
  EXPECT_TRUE(rt().alive(pp));
}

TEST_P(SeedProgramsTest, TwoProcessesPlayPingPong) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  rt().spawn([to](Context self) -> Task<> {
    Pid pp = self.spawn_link(ping_pong);
    int rounds = 0;
    for (int i = 0; i < 1000; ++i) {
      self.send(pp, PingMsg{self.self()});
      PongMsg pong = co_await self.receive<PongMsg>();
      if (pong.sender == pp) ++rounds;
    }
    self.send(to, Rounds{rounds});
  });
  EXPECT_EQ(must_receive<Rounds>(inbox).n, 1000);
}

// ---- KV store
//
//   {:put, key, value, sender} -> send sender, :ok; loop(Map.put(map, key, value))
//   {:get, key, sender}        -> send sender, Map.get(map, key); loop(map)

struct Put {
  std::string key;
  int value;
  Pid sender;
};
struct Get {
  std::string key;
  Pid sender;
};
struct Ok {};
struct Value {
  std::optional<int> value;  // nil when absent
};

Task<> kv_store(Context self) {
  std::map<std::string, int> map;
  for (;;) {
    co_await self.receive(
        [&](Put& p) {
          map[p.key] = p.value;
          self.send(p.sender, Ok{});
        },
        [&](Get& g) {
          auto it = map.find(g.key);
          self.send(g.sender,
                    Value{it == map.end() ? std::nullopt : std::optional<int>(it->second)});
        });
  }
}

TEST_P(SeedProgramsTest, KvStoreGetsNilThenStoredValue) {
  Inbox inbox(rt());
  Pid kv = rt().spawn(kv_store);
  inbox.context().send(kv, Get{"a", inbox.pid()});
  EXPECT_FALSE(must_receive<Value>(inbox).value.has_value());

  // send put; send get; flush -> :ok, 42 (in that order)
  inbox.context().send(kv, Put{"a", 42, inbox.pid()});
  inbox.context().send(kv, Get{"a", inbox.pid()});
  std::optional<Message> first = inbox.receive_any(kWait);
  std::optional<Message> second = inbox.receive_any(kWait);
  ASSERT_TRUE(first && second);
  EXPECT_TRUE(first->is<Ok>());
  ASSERT_TRUE(second->is<Value>());
  EXPECT_EQ(second->get<Value>().value, std::optional<int>(42));
}

TEST_P(SeedProgramsTest, KvStoreReachedByRegisteredName) {
  Inbox inbox(rt());
  Pid kv = rt().spawn(kv_store);
  ASSERT_TRUE(rt().register_name("kv", kv).ok());
  ASSERT_TRUE(inbox.context().send("kv", Put{"a", 42, inbox.pid()}).ok());
  must_receive<Ok>(inbox);
  ASSERT_TRUE(inbox.context().send("kv", Get{"a", inbox.pid()}).ok());
  EXPECT_EQ(must_receive<Value>(inbox).value, std::optional<int>(42));
  ASSERT_TRUE(inbox.context().send("kv", Get{"b", inbox.pid()}).ok());
  EXPECT_FALSE(must_receive<Value>(inbox).value.has_value());
}

TEST_P(SeedProgramsTest, KvStoresKeepSeparateState) {
  Inbox inbox(rt());
  Pid kv1 = rt().spawn(kv_store);
  Pid kv2 = rt().spawn(kv_store);
  inbox.context().send(kv1, Put{"k", 1, inbox.pid()});
  inbox.context().send(kv2, Put{"k", 2, inbox.pid()});
  must_receive<Ok>(inbox);
  must_receive<Ok>(inbox);
  inbox.context().send(kv1, Get{"k", inbox.pid()});
  EXPECT_EQ(must_receive<Value>(inbox).value, std::optional<int>(1));
  inbox.context().send(kv2, Get{"k", inbox.pid()});
  EXPECT_EQ(must_receive<Value>(inbox).value, std::optional<int>(2));
}

// ---- Heartbeat monitor
//
// Pings every monitored process when no message came for `interval`; a
// process with more than two unanswered pings is marked dead, and alive again
// when it answers. Besides the chapter's list_* queries it tells an observer
// about each change, so the test waits on events instead of polling. Unlike
// the chapter's version, a process marked dead also leaves the alive list.

struct HbPing {
  Pid sender;
};
struct HbPong {
  Pid sender;
};
struct MonitorCmd {
  Pid pid;
};
struct DemonitorCmd {
  Pid pid;
};
enum class Which { kMonitors, kAlive, kDead };
struct ListCmd {
  Which which;
  Pid sender;
};
struct ListReply {
  std::vector<Pid> pids;
};
struct BecameAlive {
  Pid pid;
};
struct BecameDead {
  Pid pid;
};
struct Pause {};
struct Resume {};

struct HeartState {
  std::vector<Pid> monitors;
  std::vector<Pid> alive;
  std::vector<Pid> dead;
  std::map<Pid, int> pending;
};

bool contains(const std::vector<Pid>& v, Pid p) {
  return std::find(v.begin(), v.end(), p) != v.end();
}
void remove(std::vector<Pid>& v, Pid p) { v.erase(std::remove(v.begin(), v.end(), p), v.end()); }

void handle_pong(HeartState& st, Pid sender, Context self, Pid observer) {
  remove(st.dead, sender);
  st.pending.erase(sender);
  if (!contains(st.alive, sender)) {
    st.alive.insert(st.alive.begin(), sender);
    self.send(observer, BecameAlive{sender});
  }
}

void send_ping(HeartState& st, Context self, Pid observer) {
  for (Pid p : st.monitors) {
    self.send(p, HbPing{self.self()});
    ++st.pending[p];
  }
  for (const auto& [p, count] : st.pending) {
    if (count > 2 && !contains(st.dead, p)) {
      st.dead.insert(st.dead.begin(), p);
      remove(st.alive, p);
      self.send(observer, BecameDead{p});
    }
  }
}

Task<> heart_monitor(Context self, Pid observer, std::chrono::milliseconds interval) {
  HeartState st;
  for (;;) {
    co_await self.receive([&](HbPong& p) { handle_pong(st, p.sender, self, observer); },
                          [&](MonitorCmd& m) { st.monitors.insert(st.monitors.begin(), m.pid); },
                          [&](DemonitorCmd& m) {
                            remove(st.monitors, m.pid);
                            st.pending.erase(m.pid);
                          },
                          [&](ListCmd& l) {
                            const std::vector<Pid>& v = l.which == Which::kMonitors ? st.monitors
                                                        : l.which == Which::kAlive  ? st.alive
                                                                                    : st.dead;
                            self.send(l.sender, ListReply{v});
                          },
                          after(interval, [&] { send_ping(st, self, observer); }));
  }
}

Task<> heart_worker(Context self) {
  bool paused = false;
  for (;;) {
    co_await self.receive(
        [&](HbPing& p) {
          if (!paused) self.send(p.sender, HbPong{self.self()});
        },
        [&](Pause&) { paused = true; }, [&](Resume&) { paused = false; });
  }
}

std::vector<Pid> list(Inbox& inbox, Pid hm, Which which) {
  inbox.context().send(hm, ListCmd{which, inbox.pid()});
  return must_receive<ListReply>(inbox).pids;
}

void await_event(Inbox& inbox, Pid pid, bool alive) {
  bool got = alive
                 ? inbox.receive(plexus::match([pid](const BecameAlive& e) { return e.pid == pid; },
                                               [](const BecameAlive&) {}),
                                 after(kWait, [] {}))
                 : inbox.receive(plexus::match([pid](const BecameDead& e) { return e.pid == pid; },
                                               [](const BecameDead&) {}),
                                 after(kWait, [] {}));
  if (!got) {
    throw std::runtime_error(pid.to_string() + " was never marked " + (alive ? "alive" : "dead"));
  }
}

TEST_P(SeedProgramsTest, HeartbeatMonitorTracksAliveAndDeadAsPongsStopAndResume) {
  Inbox inbox(rt());
  Pid hm = rt().spawn(heart_monitor, inbox.pid(), std::chrono::milliseconds(10));
  Pid w1 = rt().spawn(heart_worker);
  Pid w2 = rt().spawn(heart_worker);
  inbox.context().send(hm, MonitorCmd{w1});
  inbox.context().send(hm, MonitorCmd{w2});
  EXPECT_EQ(list(inbox, hm, Which::kMonitors), (std::vector<Pid>{w2, w1}));

  await_event(inbox, w1, true);
  await_event(inbox, w2, true);
  EXPECT_TRUE(list(inbox, hm, Which::kDead).empty());

  // w2 stops answering: after three unanswered pings it is dead.
  inbox.context().send(w2, Pause{});
  await_event(inbox, w2, false);
  EXPECT_EQ(list(inbox, hm, Which::kDead), (std::vector<Pid>{w2}));
  EXPECT_EQ(list(inbox, hm, Which::kAlive), (std::vector<Pid>{w1}));

  // It answers again: back to alive.
  inbox.context().send(w2, Resume{});
  await_event(inbox, w2, true);
  EXPECT_TRUE(list(inbox, hm, Which::kDead).empty());
  std::vector<Pid> alive = list(inbox, hm, Which::kAlive);
  EXPECT_TRUE(contains(alive, w1) && contains(alive, w2));

  // A process that really exits stops answering for good.
  rt().exit(w1, ExitReason::kill());
  await_event(inbox, w1, false);
  EXPECT_EQ(list(inbox, hm, Which::kDead), (std::vector<Pid>{w1}));

  // Demonitored processes are no longer pinged or judged.
  inbox.context().send(hm, DemonitorCmd{w1});
  EXPECT_EQ(list(inbox, hm, Which::kMonitors), (std::vector<Pid>{w2}));
  EXPECT_TRUE(rt().alive(hm));
}

// ---- Work pool scheduler
//
//   {:queue, func, args, sender} -> {pid, _ref} = spawn_monitor(fn -> send sender, func.(args) end)
//   {:DOWN, _ref, :process, pid, :normal} -> forget pid
//   {:DOWN, _ref, :process, pid, reason}  -> send sender, {:failure, "pool worker died: ..."}
//
// Plus a WhenIdle request, answered once no worker is running, with counts.

struct Queue {
  std::function<long long(long long)> fn;
  long long arg;
  Pid sender;
};
struct JobResult {
  long long value;
};
struct Failure {
  std::string text;
};
struct WhenIdle {
  Pid sender;
};
struct Idle {
  int completed;
  int failed;
};

Task<> work_scheduler(Context self) {
  std::map<Pid, Pid> processing;
  std::vector<Pid> waiting;
  int completed = 0;
  int failed = 0;
  for (;;) {
    co_await self.receive(
        [&](Queue& q) {
          std::function<long long(long long)> fn = std::move(q.fn);
          long long arg = q.arg;
          Pid sender = q.sender;
          std::pair<Pid, Ref> worker = self.spawn_monitor(
              [fn, arg, sender](Context w) { w.send(sender, JobResult{fn(arg)}); });
          processing[worker.first] = sender;
        },
        [&](Down& d) {
          auto it = processing.find(d.pid);
          if (it == processing.end()) return;
          if (d.reason.is_normal()) {
            ++completed;
          } else {
            ++failed;
            self.send(it->second, Failure{"pool worker died: " + d.reason.to_string()});
          }
          processing.erase(it);
          if (processing.empty()) {
            for (Pid w : waiting) self.send(w, Idle{completed, failed});
            waiting.clear();
          }
        },
        [&](WhenIdle& w) {
          if (processing.empty()) {
            self.send(w.sender, Idle{completed, failed});
          } else {
            waiting.push_back(w.sender);
          }
        });
  }
}

long long fib(long long n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

TEST_P(SeedProgramsTest, WorkPoolDeliversResultsAndForgetsFinishedWorkers) {
  Inbox inbox(rt());
  Pid scheduler = rt().spawn(work_scheduler);
  inbox.context().send(scheduler, Queue{[](long long x) { return 2 * x * x; }, 4, inbox.pid()});
  EXPECT_EQ(must_receive<JobResult>(inbox).value, 32);
  inbox.context().send(scheduler, Queue{[](long long x) { return x * x; }, 7, inbox.pid()});
  EXPECT_EQ(must_receive<JobResult>(inbox).value, 49);
  inbox.context().send(scheduler, WhenIdle{inbox.pid()});
  Idle idle = must_receive<Idle>(inbox);
  EXPECT_EQ(idle.completed, 2);
  EXPECT_EQ(idle.failed, 0);
  EXPECT_FALSE(inbox.receive<Failure>(0ms).has_value());
}

TEST_P(SeedProgramsTest, WorkPoolReportsWorkerFailureAndKeepsRunning) {
  Inbox inbox(rt());
  Pid scheduler = rt().spawn(work_scheduler);
  inbox.context().send(
      scheduler,
      Queue{[](long long) -> long long { throw std::runtime_error("oops"); }, 0, inbox.pid()});
  Failure failure = must_receive<Failure>(inbox);
  EXPECT_EQ(failure.text.rfind("pool worker died: ", 0), 0u) << failure.text;
  EXPECT_NE(failure.text.find("oops"), std::string::npos) << failure.text;
  EXPECT_TRUE(rt().alive(scheduler));
  // The worker's crash is logged, as the chapter's "[error] Process ... raised an exception".
  EXPECT_TRUE(logs_.wait_for(LogLevel::kError, {"oops"})) << logs_.dump();

  inbox.context().send(scheduler, Queue{[](long long x) { return x + 1; }, 41, inbox.pid()});
  EXPECT_EQ(must_receive<JobResult>(inbox).value, 42);
  inbox.context().send(scheduler, WhenIdle{inbox.pid()});
  Idle idle = must_receive<Idle>(inbox);
  EXPECT_EQ(idle.completed, 1);
  EXPECT_EQ(idle.failed, 1);
}

TEST_P(SeedProgramsTest, WorkPoolByRegisteredNameComputesFibonacciInParallel) {
  Inbox inbox(rt());
  Pid scheduler = rt().spawn(work_scheduler);
  ASSERT_TRUE(rt().register_name("scheduler", scheduler).ok());
  // Workpool.queue(fun, args): send :scheduler, {:queue, fun, args, self}
  auto queue = [&](std::function<long long(long long)> fn, long long arg) {
    return inbox.context().send("scheduler", Queue{std::move(fn), arg, inbox.pid()});
  };
  std::vector<long long> expected;
  for (long long n = 5; n <= 25; ++n) {
    ASSERT_TRUE(queue(fib, n).ok());
    expected.push_back(fib(n));
  }
  std::vector<long long> got;
  for (size_t i = 0; i < expected.size(); ++i) got.push_back(must_receive<JobResult>(inbox).value);
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, expected);
  inbox.context().send(scheduler, WhenIdle{inbox.pid()});
  EXPECT_EQ(must_receive<Idle>(inbox).completed, static_cast<int>(expected.size()));

  ASSERT_TRUE(rt().unregister("scheduler").ok());
  EXPECT_EQ(queue(fib, 1).code(), StatusCode::kNotFound);
}

PLEXUS_INSTANTIATE_SCHEDULERS(SeedProgramsTest);

}  // namespace
}  // namespace plexus_test

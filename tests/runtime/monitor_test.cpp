// Monitors: unidirectional, stackable, one Down each; demonitor with and
// without flush; monitoring a dead pid; spawn_monitor.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <optional>
#include <set>
#include <thread>
#include <vector>

#include "plexus/plexus.h"
#include "test_processes.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::Flush;

struct Ready {
  Pid watcher;
};
struct Marker {
  int n;
};
struct Watched {
  Down down;
};
struct Spawned {
  Pid pid;
  Ref ref;
};

class MonitorTest : public SchedTest {};

// Monitors `target`, reports Ready, then forwards the Down of that monitor
// while serving as a worker (Ping, Crash, Stop).
Task<> watcher(Context self, Pid target, Pid to) {
  Ref ref = self.monitor(target);
  self.send(to, Ready{self.self()});
  co_await serve_as_worker(self, plexus::match([ref](const Down& d) { return d.ref == ref; },
                                               [&](Down& d) { self.send(to, Watched{d}); }));
}

// Waits until at least `n` messages sit in the inbox's mailbox (without
// receiving them).
bool wait_queue_len(Runtime& rt, Inbox& inbox, size_t n) {
  return eventually(rt, [&] {
    drain(inbox);
    return inbox.context().message_queue_len() >= n;
  });
}

TEST_P(MonitorTest, DownCarriesRefPidAndReason) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Ref ref = inbox.context().monitor(target);
  ASSERT_TRUE(ref.valid());
  rt().send(target, Crash{ExitReason::error("x")});
  Down down = must_receive<Down>(inbox);
  EXPECT_EQ(down.ref, ref);
  EXPECT_EQ(down.pid, target);
  EXPECT_EQ(down.reason, ExitReason::error("x"));
}

TEST_P(MonitorTest, DownReportsNormalAndKilled) {
  Inbox inbox(rt());
  Pid a = rt().spawn(worker);
  Pid b = rt().spawn(worker);
  Ref ra = inbox.context().monitor(a);
  Ref rb = inbox.context().monitor(b);
  rt().send(a, Stop{});
  rt().exit(b, ExitReason::kill());
  EXPECT_EQ(must_receive_down(inbox, ra).reason, ExitReason::normal());
  EXPECT_EQ(must_receive_down(inbox, rb).reason, ExitReason::killed());
}

TEST_P(MonitorTest, MonitoringProcessSurvivesTargetCrash) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Pid w = rt().spawn(watcher, target, inbox.pid());
  EXPECT_EQ(must_receive<Ready>(inbox).watcher, w);
  rt().send(target, Crash{ExitReason::error("target crash")});
  Watched seen = must_receive<Watched>(inbox);
  EXPECT_EQ(seen.down.pid, target);
  EXPECT_EQ(seen.down.reason, ExitReason::error("target crash"));
  EXPECT_TRUE(answers_ping(inbox, w)) << "a monitor is not a link";
  rt().send(w, Stop{});
}

TEST_P(MonitorTest, TargetSurvivesMonitoringProcessCrash) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Pid w = rt().spawn(watcher, target, inbox.pid());
  must_receive<Ready>(inbox);
  Ref wref = inbox.context().monitor(w);
  rt().send(w, Crash{ExitReason::error("watcher crash")});
  EXPECT_EQ(must_receive_down(inbox, wref).reason, ExitReason::error("watcher crash"));
  EXPECT_TRUE(answers_ping(inbox, target)) << "monitors are unidirectional";
  rt().send(target, Stop{});
}

TEST_P(MonitorTest, StackedMonitorsEachFireExactlyOnce) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Ref r1 = inbox.context().monitor(target);
  Ref r2 = inbox.context().monitor(target);
  EXPECT_NE(r1, r2);
  rt().send(target, Crash{ExitReason::error("once")});
  std::set<Ref> seen;
  for (int i = 0; i < 2; ++i) {
    Down d = must_receive<Down>(inbox);
    EXPECT_EQ(d.pid, target);
    EXPECT_EQ(d.reason, ExitReason::error("once"));
    seen.insert(d.ref);
  }
  EXPECT_EQ(seen, (std::set<Ref>{r1, r2}));
  EXPECT_TRUE(nothing_of_type<Down>(inbox));
}

TEST_P(MonitorTest, ManyWatchersEachGetTheirDown) {
  Inbox inbox(rt());
  constexpr int kWatchers = 20;
  Pid target = rt().spawn(worker);
  std::vector<Pid> watchers;
  for (int i = 0; i < kWatchers; ++i) watchers.push_back(rt().spawn(watcher, target, inbox.pid()));
  for (int i = 0; i < kWatchers; ++i) must_receive<Ready>(inbox);
  rt().exit(target, ExitReason::error("gone"));
  for (int i = 0; i < kWatchers; ++i) {
    Watched w = must_receive<Watched>(inbox);
    EXPECT_EQ(w.down.pid, target);
    EXPECT_EQ(w.down.reason, ExitReason::error("gone"));
  }
  for (Pid w : watchers) rt().send(w, Stop{});
}

TEST_P(MonitorTest, DemonitorRemovesOnlyThatMonitor) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Ref r1 = inbox.context().monitor(target);
  Ref r2 = inbox.context().monitor(target);
  EXPECT_TRUE(inbox.context().demonitor(r1));
  rt().send(target, Crash{ExitReason::error("bye")});
  Down d = must_receive<Down>(inbox);
  EXPECT_EQ(d.ref, r2);
  EXPECT_TRUE(nothing_of_type<Down>(inbox)) << "the removed monitor fired";
}

TEST_P(MonitorTest, DemonitorOfInactiveMonitorReturnsFalse) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Ref ref = inbox.context().monitor(target);
  EXPECT_TRUE(inbox.context().demonitor(ref));
  EXPECT_FALSE(inbox.context().demonitor(ref));
  Ref fired = inbox.context().monitor(target);
  rt().send(target, Stop{});
  must_receive_down(inbox, fired);
  EXPECT_FALSE(inbox.context().demonitor(fired));
  EXPECT_FALSE(inbox.context().demonitor(Ref{}));
}

TEST_P(MonitorTest, DemonitorFlushRemovesQueuedDownAndOnlyThatOne) {
  Inbox inbox(rt());
  inbox.context().send(inbox.pid(), Marker{1});
  Pid target = rt().spawn(worker);
  Ref r1 = inbox.context().monitor(target);
  Ref r2 = inbox.context().monitor(target);
  rt().send(target, Crash{ExitReason::error("queued")});
  ASSERT_TRUE(wait_queue_len(rt(), inbox, 3)) << "the two Downs never arrived";

  EXPECT_FALSE(inbox.context().demonitor(r1, Flush::kYes)) << "the monitor had already fired";
  EXPECT_EQ(inbox.context().message_queue_len(), 2u);

  std::optional<Message> first = inbox.receive_any(0ms);
  std::optional<Message> second = inbox.receive_any(0ms);
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->is<Marker>());
  ASSERT_TRUE(second->is<Down>());
  EXPECT_EQ(second->get<Down>().ref, r2);
  EXPECT_FALSE(inbox.receive_any(0ms).has_value());
}

TEST_P(MonitorTest, DemonitorWithoutFlushLeavesQueuedDown) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Ref ref = inbox.context().monitor(target);
  rt().send(target, Stop{});
  ASSERT_TRUE(wait_queue_len(rt(), inbox, 1));
  (void)inbox.context().demonitor(ref, Flush::kNo);
  Down d = must_receive_down(inbox, ref, 0ms);
  EXPECT_EQ(d.pid, target);
}

TEST_P(MonitorTest, DemonitorFlushOfActiveMonitorReturnsTrueAndNoDownArrives) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Ref ref = inbox.context().monitor(target);
  EXPECT_TRUE(inbox.context().demonitor(ref, Flush::kYes));
  Ref other = inbox.context().monitor(target);
  rt().send(target, Crash{ExitReason::error("late")});
  EXPECT_EQ(must_receive<Down>(inbox).ref, other);
  EXPECT_TRUE(nothing_of_type<Down>(inbox));
}

TEST_P(MonitorTest, MonitorOfDeadPidGivesNoProcDownAtOnce) {
  Inbox inbox(rt());
  auto [dead, spawn_ref] = inbox.context().spawn_monitor([] {});
  must_receive_down(inbox, spawn_ref);
  int64_t before = rt().now_ms();
  Ref ref = inbox.context().monitor(dead);
  ASSERT_TRUE(ref.valid());
  Down d = must_receive_down(inbox, ref, deterministic() ? 0ms : kWait);
  EXPECT_EQ(d.pid, dead);
  EXPECT_EQ(d.reason, ExitReason::noproc());
  if (deterministic()) {
    EXPECT_EQ(rt().now_ms(), before);
  }
  EXPECT_FALSE(inbox.context().demonitor(ref)) << "a noproc monitor is not active";
}

TEST_P(MonitorTest, SpawnMonitorGivesPidAndRefOfTheDown) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  rt().spawn([to](Context self) -> Task<> {
    // As the chapter's spawn_monitor(fn -> :timer.sleep(500) end).
    std::pair<Pid, Ref> child = self.spawn_monitor(
        [](Context c) -> Task<> { co_await c.receive([](Stop&) {}, after(50ms, [] {})); });
    self.send(to, Spawned{child.first, child.second});
    Down d = co_await self.receive<Down>();
    self.send(to, Watched{d});
  });
  Spawned s = must_receive<Spawned>(inbox);
  EXPECT_TRUE(s.pid.valid());
  EXPECT_TRUE(s.ref.valid());
  Watched w = must_receive<Watched>(inbox);
  EXPECT_EQ(w.down.ref, s.ref);
  EXPECT_EQ(w.down.pid, s.pid);
  EXPECT_TRUE(w.down.reason.is_normal()) << w.down.reason;
}

TEST_P(MonitorTest, SpawnMonitorSeesImmediateFailure) {
  Inbox inbox(rt());
  auto [pid, ref] = inbox.context().spawn_monitor([](Context self) -> Task<> {
    self.exit(ExitReason::shutdown("early"));
    co_return;
  });
  Down d = must_receive_down(inbox, ref);
  EXPECT_EQ(d.pid, pid);
  EXPECT_EQ(d.reason, ExitReason::shutdown("early"));
  EXPECT_NE(d.reason, ExitReason::shutdown());
}

// erlang:monitor(process, self()) returns a ref and makes no monitor:
// demonitor finds nothing, no Down ever comes, not even at the exit.
TEST_P(MonitorTest, MonitoringOneselfMakesNoMonitor) {
  Inbox inbox(rt());
  struct Result {
    bool demonitored;
    size_t queued;
  };
  Pid to = inbox.pid();
  Pid p = rt().spawn([to](Context self) -> Task<> {
    Ref ref = self.monitor(self.self());
    Ref again = self.monitor(self.self());
    bool demonitored = self.demonitor(again);
    self.send(to, Result{demonitored, self.message_queue_len()});
    co_await self.receive<Stop>();
    (void)ref;
  });
  Result r = must_receive<Result>(inbox);
  EXPECT_FALSE(r.demonitored);
  EXPECT_EQ(r.queued, 0u);
  Ref watch = inbox.context().monitor(p);
  rt().send(p, Stop{});
  EXPECT_TRUE(must_receive_down(inbox, watch).reason.is_normal());
  EXPECT_TRUE(nothing_of_type<Down>(inbox));
}

// A monitor request that reached a process before it exited is answered with
// its exit reason, even if the process never looked at its mailbox again, as
// BEAM handles the signals still queued at an exit. (Only one that arrives
// after the exit finds no process: noproc.)
TEST_P(MonitorTest, AMonitorQueuedAtTheExitGetsTheExitReason) {
  Inbox inbox(rt());
  auto go = std::make_shared<std::atomic<bool>>(false);
  Pid p = rt().spawn([go](Context self) {
    while (!go->load()) std::this_thread::yield();
    self.exit(ExitReason::error("busy, then gone"));
  });
  Ref ref = inbox.context().monitor(p);
  go->store(true);
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::error("busy, then gone"));
  Ref late = inbox.context().monitor(p);
  EXPECT_EQ(must_receive_down(inbox, late).reason, ExitReason::noproc());
}

PLEXUS_INSTANTIATE_SCHEDULERS(MonitorTest);

}  // namespace
}  // namespace plexus_test

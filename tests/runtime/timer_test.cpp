// Timers: send_after delivery and ordering, cancel_timer's remaining time,
// and large numbers of timers and receive timeouts armed and cancelled.
#include <gtest/gtest.h>

#include <optional>
#include <vector>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::TimerRef;

struct Tick {
  int n;
};
struct Ball {
  Pid from;
  int n;
};
struct Stop {
  Pid from;
};
struct Timeouts {
  long long n;
};
struct Summary {
  long long pinger_timeouts;
  long long ponger_timeouts;
  long long bad_balls;
  int64_t final_wait_ms;
  bool final_timed_out;
};

class TimerTest : public SchedTest {};

TEST_P(TimerTest, SendAfterDeliversNoEarlierThanItsDelay) {
  Inbox inbox(rt());
  int64_t start = rt().now_ms();
  TimerRef timer = rt().send_after(inbox.pid(), 50ms, Tick{1});
  EXPECT_TRUE(static_cast<bool>(timer));
  EXPECT_EQ(must_receive<Tick>(inbox).n, 1);
  int64_t waited = rt().now_ms() - start;
  EXPECT_TRUE(matches_wait(waited, 50));
}

TEST_P(TimerTest, TimersFireInDeadlineOrder) {
  Inbox inbox(rt());
  rt().send_after(inbox.pid(), 90ms, Tick{90});
  rt().send_after(inbox.pid(), 30ms, Tick{30});
  rt().send_after(inbox.pid(), 60ms, Tick{60});
  EXPECT_EQ(must_receive<Tick>(inbox).n, 30);
  EXPECT_EQ(must_receive<Tick>(inbox).n, 60);
  EXPECT_EQ(must_receive<Tick>(inbox).n, 90);
}

TEST_P(TimerTest, SendAfterWithZeroDelayDelivers) {
  Inbox inbox(rt());
  rt().send_after(inbox.pid(), 0ms, Tick{0});
  EXPECT_EQ(must_receive<Tick>(inbox).n, 0);
}

TEST_P(TimerTest, SendAfterFromProcessReachesTarget) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  rt().spawn([to](Context self) -> Task<> {
    self.runtime().send_after(self.self(), 20ms, Tick{7});
    Tick t = co_await self.receive<Tick>();
    self.send(to, Tick{t.n * 6});
  });
  EXPECT_EQ(must_receive<Tick>(inbox).n, 42);
}

TEST_P(TimerTest, CancelTimerPreventsDeliveryAndReturnsRemainingTime) {
  Inbox inbox(rt());
  if (deterministic()) {
    TimerRef timer = rt().send_after(inbox.pid(), 1000ms, Tick{1});
    rt().advance_time(300ms);
    std::optional<std::chrono::milliseconds> left = rt().cancel_timer(timer);
    ASSERT_TRUE(left.has_value());
    EXPECT_EQ(left->count(), 700);
    EXPECT_TRUE(nothing_of_type<Tick>(inbox, 5s));
  } else {
    TimerRef timer = rt().send_after(inbox.pid(), 150ms, Tick{1});
    std::optional<std::chrono::milliseconds> left = rt().cancel_timer(timer);
    ASSERT_TRUE(left.has_value());
    EXPECT_GT(left->count(), 0);
    EXPECT_LE(left->count(), 150);
    EXPECT_TRUE(nothing_of_type<Tick>(inbox, 400ms));
  }
}

TEST_P(TimerTest, CancelAfterFireOrTwiceReturnsNothing) {
  Inbox inbox(rt());
  TimerRef fired = rt().send_after(inbox.pid(), 10ms, Tick{1});
  must_receive<Tick>(inbox);
  EXPECT_FALSE(rt().cancel_timer(fired).has_value());

  TimerRef cancelled = rt().send_after(inbox.pid(), 10s, Tick{2});
  EXPECT_TRUE(rt().cancel_timer(cancelled).has_value());
  EXPECT_FALSE(rt().cancel_timer(cancelled).has_value());

  EXPECT_FALSE(rt().cancel_timer(TimerRef{}).has_value());
}

TEST_P(TimerTest, CancellingOneTimerLeavesOthers) {
  Inbox inbox(rt());
  TimerRef a = rt().send_after(inbox.pid(), 30ms, Tick{1});
  rt().send_after(inbox.pid(), 40ms, Tick{2});
  EXPECT_TRUE(rt().cancel_timer(a).has_value());
  EXPECT_EQ(must_receive<Tick>(inbox).n, 2);
  EXPECT_TRUE(nothing_of_type<Tick>(inbox));
}

TEST_P(TimerTest, ManySendAfterTimersCancelledNeverFire) {
  Inbox inbox(rt());
  const int n = 100000;
  std::vector<TimerRef> timers;
  timers.reserve(n);
  for (int i = 0; i < n; ++i) {
    timers.push_back(
        rt().send_after(inbox.pid(), std::chrono::milliseconds(1000 + i % 5000), Tick{i}));
  }
  int not_cancelled = 0;
  for (TimerRef t : timers) {
    if (!rt().cancel_timer(t).has_value()) ++not_cancelled;
  }
  EXPECT_EQ(not_cancelled, 0);
  int64_t start = rt().now_ms();
  rt().send_after(inbox.pid(), 10ms, Tick{-1});
  EXPECT_EQ(must_receive<Tick>(inbox).n, -1);
  if (deterministic()) {
    EXPECT_EQ(rt().now_ms() - start, 10);
    // Past every cancelled deadline: none of them fires.
    EXPECT_TRUE(nothing_of_type<Tick>(inbox, 10s));
  } else {
    EXPECT_TRUE(nothing_of_type<Tick>(inbox));
  }
}

TEST_P(TimerTest, ManyTimersAllFireInDeadlineOrder) {
  Inbox inbox(rt());
  const int n = 10000;
  for (int i = 0; i < n; ++i) {
    int delay = (i * 37) % 100;
    rt().send_after(inbox.pid(), std::chrono::milliseconds(delay), Tick{delay});
  }
  int last = -1;
  int out_of_order = 0;
  for (int i = 0; i < n; ++i) {
    Tick t = must_receive<Tick>(inbox);
    if (t.n < last) ++out_of_order;
    last = t.n;
  }
  if (deterministic()) {
    EXPECT_EQ(out_of_order, 0);
  }
  EXPECT_TRUE(nothing_of_type<Tick>(inbox));
}

// Ping-pong where every receive arms a long timeout that is then cancelled by
// the arriving message: none may fire, and a short one still fires on time.
Task<> ponger(Context self) {
  long long timeouts = 0;
  for (;;) {
    std::optional<Pid> stop;
    co_await self.receive(
        [&](Ball& b) {
          self.send(b.from, Ball{self.self(), b.n});
        },
        [&](Stop& s) { stop = s.from; }, after(60s, [&] { ++timeouts; }));
    if (stop) {
      self.send(*stop, Timeouts{timeouts});
      co_return;
    }
  }
}

Task<> pinger(Context self, Pid to, int rounds) {
  Pid pong = self.spawn(ponger);
  long long timeouts = 0;
  long long bad = 0;
  for (int i = 0; i < rounds; ++i) {
    self.send(pong, Ball{self.self(), i});
    co_await self.receive([&](Ball& b) { bad += b.n != i; }, after(60s, [&] { ++timeouts; }));
  }
  self.send(pong, Stop{self.self()});
  Timeouts theirs = co_await self.receive<Timeouts>();
  int64_t start = self.runtime().now_ms();
  bool matched = co_await self.receive([](Tick&) {}, after(20ms, [] {}));
  int64_t waited = self.runtime().now_ms() - start;
  self.send(to, Summary{timeouts, theirs.n, bad, waited, !matched});
}

TEST_P(TimerTest, HundredThousandReceiveTimeoutsArmedAndCancelledStayCorrect) {
  Inbox inbox(rt());
  const int rounds = 100000;
  int64_t start = rt().now_ms();
  rt().spawn(pinger, inbox.pid(), rounds);
  Summary s = must_receive<Summary>(inbox, kWait * 3);
  EXPECT_EQ(s.pinger_timeouts, 0);
  EXPECT_EQ(s.ponger_timeouts, 0);
  EXPECT_EQ(s.bad_balls, 0);
  EXPECT_TRUE(s.final_timed_out);
  EXPECT_TRUE(matches_wait(s.final_wait_ms, 20));
  if (deterministic()) {
    EXPECT_EQ(rt().now_ms() - start, 20) << "cancelled timeouts moved virtual time";
  }
}

TEST_P(TimerTest, ReceiveTimeoutRestartsWithEachReceive) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  // Counts 5 consecutive 10ms timeouts, as a heartbeat loop does.
  rt().spawn([to](Context self) -> Task<> {
    int fired = 0;
    int64_t start = self.runtime().now_ms();
    while (fired < 5) {
      co_await self.receive([](Tick&) {}, after(10ms, [&] { ++fired; }));
    }
    self.send(to, Summary{fired, 0, 0, self.runtime().now_ms() - start, true});
  });
  Summary s = must_receive<Summary>(inbox);
  EXPECT_EQ(s.pinger_timeouts, 5);
  EXPECT_TRUE(matches_wait(s.final_wait_ms, 50));
}

// A process's timers go with it, as in Erlang: once its target has exited,
// read_timer and cancel_timer find nothing, even before the timer is due.
TEST_P(TimerTest, ATimerToAProcessThatExitedIsGone) {
  Inbox inbox(rt());
  Pid target = rt().spawn([](Context self) -> Task<> { co_await self.receive<Stop>(); });
  TimerRef timer = rt().send_after(target, std::chrono::hours(1), Tick{1});
  ASSERT_TRUE(rt().read_timer(timer).has_value());
  Ref ref = inbox.context().monitor(target);
  rt().send(target, Stop{});
  must_receive_down(inbox, ref);
  EXPECT_EQ(rt().read_timer(timer), std::nullopt);
  EXPECT_EQ(rt().cancel_timer(timer), std::nullopt);
}

TEST_P(TimerTest, ATimerToAPidThatWasNeverAliveIsGone) {
  Inbox inbox(rt());
  Pid target = rt().spawn([](Context) {});
  Ref ref = inbox.context().monitor(target);
  must_receive_down(inbox, ref);
  TimerRef timer = rt().send_after(target, std::chrono::hours(1), Tick{1});
  EXPECT_EQ(rt().cancel_timer(timer), std::nullopt);
}

TEST_P(TimerTest, ReadTimerGivesTheTimeLeftAndLeavesTheTimer) {
  Inbox inbox(rt());
  TimerRef timer = rt().send_after(inbox.pid(), 1000ms, Tick{5});
  if (deterministic()) rt().advance_time(300ms);
  std::optional<std::chrono::milliseconds> left = rt().read_timer(timer);
  ASSERT_TRUE(left.has_value());
  EXPECT_LE(left->count(), deterministic() ? 700 : 1000);
  EXPECT_GT(left->count(), 0);
  EXPECT_TRUE(rt().read_timer(timer).has_value()) << "reading does not cancel";
  EXPECT_EQ(must_receive<Tick>(inbox).n, 5);
  EXPECT_EQ(rt().read_timer(timer), std::nullopt) << "a fired timer is gone";
}

// erlang:send_after/3 to an atom: the name is looked up when the timer fires.
TEST_P(TimerTest, SendAfterToANameFindsWhoHasItWhenItFires) {
  Inbox inbox(rt());
  TimerRef timer = rt().send_after(std::string("late"), 50ms, Tick{9});
  ASSERT_TRUE(inbox.context().register_name("late").ok());
  EXPECT_EQ(must_receive<Tick>(inbox).n, 9);
  EXPECT_EQ(rt().read_timer(timer), std::nullopt);
}

TEST_P(TimerTest, SendAfterToANameNobodyHasIsDropped) {
  Inbox inbox(rt());
  rt().send_after(std::string("nobody"), 10ms, Tick{1});
  rt().send_after(inbox.pid(), 50ms, Tick{2});
  EXPECT_EQ(must_receive<Tick>(inbox).n, 2);
  ASSERT_TRUE(inbox.context().register_name("nobody").ok());
  EXPECT_TRUE(nothing_of_type<Tick>(inbox)) << "the earlier timer did not wait for the name";
}

PLEXUS_INSTANTIATE_SCHEDULERS(TimerTest);

}  // namespace
}  // namespace plexus_test

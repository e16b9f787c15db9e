// A process's own messages sent during its turn are published in runs (one
// in-queue node per run of messages to one process). These tests pin down
// what must not change because of that: order per sender, order through a
// third process or a spawned one, signals between messages, sends to
// oneself, a run to a process that dies, a thread that blocks inside a turn,
// and Runtime::send, which publishes at once even inside a turn.
#include <gtest/gtest.h>

#include <future>
#include <vector>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {
namespace {

struct Seq {
  int n;
};
struct Relay {
  Pid to;
  int n;
};
struct Count {
  int n;
};
struct Order {
  std::vector<int> seen;
};
struct Ask {
  Pid reply_to;
};
struct Answer {};
struct Signals {
  int downs = 0;
  int exits = 0;
  int link_failures = 0;
};

class TurnSendsTest : public SchedTest {};

// Receives `n` Seqs and reports the order they came in.
Task<> recorder(Context self, Pid report_to, int n) {
  Order order;
  for (int i = 0; i < n; ++i) order.seen.push_back((co_await self.receive<Seq>()).n);
  self.send(report_to, std::move(order));
}

// Forwards each Relay's number to its target as a Seq.
Task<> relay(Context self) {
  for (;;) {
    Relay r = co_await self.receive<Relay>();
    self.send(r.to, Seq{r.n});
  }
}

TEST_P(TurnSendsTest, AThousandSendsInOneTurnArriveInOrder) {
  constexpr int kCount = 1000;  // several runs' worth
  Inbox inbox(rt());
  Pid rec = rt().spawn(recorder, inbox.pid(), kCount);
  rt().spawn(
      [](Context self, Pid to) {
        for (int i = 0; i < kCount; ++i) self.send(to, Seq{i});
      },
      rec);
  Order order = must_receive<Order>(inbox);
  ASSERT_EQ(order.seen.size(), size_t{kCount});
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(order.seen[i], i) << "at " << i;
}

// m1 goes to the recorder; then m2 goes through a relay. Whatever the relay
// sends must come after m1, as if m1 had been delivered when it was sent.
TEST_P(TurnSendsTest, AMessageSentBeforeOneThroughAThirdProcessArrivesFirst) {
  for (int round = 0; round < 50; ++round) {
    Inbox inbox(rt());
    Pid rec = rt().spawn(recorder, inbox.pid(), 2);
    Pid rel = rt().spawn(relay);
    rt().spawn(
        [](Context self, Pid rec, Pid rel) {
          self.send(rec, Seq{1});
          self.send(rel, Relay{rec, 2});
        },
        rec, rel);
    Order order = must_receive<Order>(inbox);
    ASSERT_EQ(order.seen, (std::vector<int>{1, 2})) << "round " << round;
    rt().exit(rel, ExitReason::kill());
  }
}

TEST_P(TurnSendsTest, AMessageSentBeforeSpawningArrivesBeforeTheChildsMessages) {
  for (int round = 0; round < 50; ++round) {
    Inbox inbox(rt());
    Pid rec = rt().spawn(recorder, inbox.pid(), 2);
    rt().spawn(
        [](Context self, Pid rec) {
          self.send(rec, Seq{1});
          self.spawn([](Context child, Pid rec) { child.send(rec, Seq{2}); }, rec);
        },
        rec);
    Order order = must_receive<Order>(inbox);
    ASSERT_EQ(order.seen, (std::vector<int>{1, 2})) << "round " << round;
  }
}

// Links, unlinks and monitors between messages take effect in their place:
// the recorder sees its messages in order, each of the 43 monitors fires
// once, and the link made last holds when the recorder exits abnormally.
TEST_P(TurnSendsTest, SignalsInsideARunTakeEffectInSendOrder) {
  Inbox inbox(rt());
  Pid rec = rt().spawn(
      [](Context self, Pid report_to) -> Task<> {
        Order order;
        for (int i = 0; i < 300; ++i) order.seen.push_back((co_await self.receive<Seq>()).n);
        self.send(report_to, std::move(order));
        self.exit(ExitReason::error("done"));
      },
      inbox.pid());
  rt().spawn(
      [](Context self, Pid rec, Pid report_to) -> Task<> {
        self.trap_exit(true);
        Signals got;
        for (int i = 0; i < 300; ++i) {
          self.send(rec, Seq{i});
          if (i % 3 == 0) got.link_failures += !self.link(rec).ok();
          if (i % 3 == 1) self.unlink(rec);  // the last one is at i = 298
          if (i % 7 == 0) self.monitor(rec);
        }
        got.link_failures += !self.link(rec).ok();
        while (got.downs < 43 || got.exits < 1) {
          co_await self.receive([&](const Down&) { ++got.downs; },
                                [&](const Exit&) { ++got.exits; });
        }
        // Anything more would be a duplicate.
        co_await self.receive([&](const Down&) { ++got.downs; }, [&](const Exit&) { ++got.exits; },
                              after(100ms, [] {}));
        self.send(report_to, got);
      },
      rec, inbox.pid());
  Order order = must_receive<Order>(inbox);
  ASSERT_EQ(order.seen.size(), size_t{300});
  for (int i = 0; i < 300; ++i) ASSERT_EQ(order.seen[i], i);
  Signals got = must_receive<Signals>(inbox);
  EXPECT_EQ(got.link_failures, 0);
  EXPECT_EQ(got.downs, 43);
  EXPECT_EQ(got.exits, 1);
}

TEST_P(TurnSendsTest, MessagesToOneselfAreReceivedInTheSameTurn) {
  Inbox inbox(rt());
  rt().spawn(
      [](Context self, Pid to) -> Task<> {
        for (int i = 0; i < 10; ++i) self.send(self.self(), Seq{i});
        int sum = 0;
        for (int i = 0; i < 10; ++i) sum += (co_await self.receive<Seq>()).n;
        self.send(to, Count{sum});
      },
      inbox.pid());
  EXPECT_EQ(must_receive<Count>(inbox).n, 45);
}

// A run's link and monitor requests that reach a process after it died are
// answered with noproc, as single sends are.
TEST_P(TurnSendsTest, ARunToAProcessThatDiedIsAnsweredAsDead) {
  Inbox inbox(rt());
  rt().spawn(
      [](Context self, Pid to) -> Task<> {
        self.trap_exit(true);
        Pid victim = self.spawn([](Context v) -> Task<> { co_await v.receive<Answer>(); });
        self.exit(victim, ExitReason::kill());
        // Runs to the victim, which exits (killed) before or after they land.
        for (int i = 0; i < 100; ++i) self.send(victim, Seq{i});
        Ref ref = self.monitor(victim);
        Down got;
        co_await self.receive(plexus::match([ref](const Down& d) { return d.ref == ref; },
                                            [&](Down& d) { got = d; }));
        self.send(to, got);
      },
      inbox.pid());
  Down d = must_receive<Down>(inbox);
  EXPECT_TRUE(d.reason.kind() == ExitReason::Kind::kKilled ||
              d.reason.kind() == ExitReason::Kind::kNoProc)
      << d.reason.to_string();
}

// A process that waits on an Inbox inside its turn (blocking its thread)
// publishes its sends first: the local server it asked can answer.
TEST(TurnSendsThreadedTest, ATurnThatBlocksOnAnInboxPublishesItsSendsFirst) {
  Runtime rt(runtime_options(Sched::kThreaded));
  Pid server = rt.spawn([](Context self) -> Task<> {
    for (;;) {
      Ask ask = co_await self.receive<Ask>();
      self.send(ask.reply_to, Answer{});
    }
  });
  Inbox result(rt);
  rt.spawn(
      [&rt, server](Context self, Pid to) {
        Inbox waiter(rt);
        self.send(server, Ask{waiter.pid()});
        bool answered = waiter.receive<Answer>(kWait).has_value();
        self.send(to, Count{answered ? 1 : 0});
      },
      result.pid());
  EXPECT_EQ(must_receive<Count>(result).n, 1);
}

// Runtime::send called inside a turn is in the mailbox when it returns: the
// turn then blocks outside the runtime until the test thread has seen every
// message (held back, the second and third would never arrive).
TEST(TurnSendsThreadedTest, RuntimeSendInsideATurnIsInTheMailboxWhenItReturns) {
  Runtime rt(runtime_options(Sched::kThreaded));
  Inbox inbox(rt);
  std::promise<void> seen;
  std::shared_future<void> seen_by_test = seen.get_future().share();
  rt.spawn(
      [&rt, seen_by_test](Pid to) {
        for (int i = 0; i < 3; ++i) (void)rt.send(to, Count{i});
        seen_by_test.wait_for(kWait);
      },
      inbox.pid());
  std::vector<int> got;
  for (int i = 0; i < 3; ++i) {
    std::optional<Count> c = inbox.receive<Count>(kWait);
    if (!c) break;
    got.push_back(c->n);
  }
  seen.set_value();
  EXPECT_EQ(got, (std::vector<int>{0, 1, 2}));
}

PLEXUS_INSTANTIATE_SCHEDULERS(TurnSendsTest);

}  // namespace
}  // namespace plexus_test

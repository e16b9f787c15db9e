// Selective receive: mailbox order, pattern and guard matching, after
// timeouts, receive<T>, flush, message_queue_len and serving calls.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::Call;
using plexus::match;

struct A {
  int v;
};
struct B {
  int v;
};
struct C {
  int v;
};
struct Go {};
struct Stop {};
struct Seen {
  std::vector<std::string> items;
};
struct Count {
  long long n;
};
struct Add {
  int a;
  int b;
};
struct Elapsed {
  bool matched;
  int64_t ms;
};

class ReceiveTest : public SchedTest {
 protected:
  // Spawns a process that waits for Go, so that everything the test sends
  // before Go is queued by then; it then runs `script(self, seen)` and sends
  // `to` the Seen that the script filled in.
  template <class F>
  Pid spawn_after_go(Pid to, F script) {
    return rt().spawn([to, script](Context self) -> Task<> {
      co_await self.receive<Go>();
      Seen seen;
      co_await script(self, seen);
      self.send(to, std::move(seen));
    });
  }
};

TEST_P(ReceiveTest, SelectiveReceiveTakesMatchingMessagesAndKeepsOthersInOrder) {
  Inbox inbox(rt());
  Pid pid = spawn_after_go(inbox.pid(), [](Context self, Seen& seen) -> Task<> {
    seen.items.push_back("len=" + std::to_string(self.message_queue_len()));
    for (int i = 0; i < 2; ++i) {
      B b = co_await self.receive<B>();
      seen.items.push_back("B" + std::to_string(b.v));
    }
    seen.items.push_back("len=" + std::to_string(self.message_queue_len()));
    for (int i = 0; i < 3; ++i) {
      A a = co_await self.receive<A>();
      seen.items.push_back("A" + std::to_string(a.v));
    }
  });
  rt().send(pid, A{1});
  rt().send(pid, B{1});
  rt().send(pid, A{2});
  rt().send(pid, B{2});
  rt().send(pid, A{3});
  rt().send(pid, Go{});
  std::vector<std::string> expected{"len=5", "B1", "B2", "len=3", "A1", "A2", "A3"};
  EXPECT_EQ(must_receive<Seen>(inbox).items, expected);
}

TEST_P(ReceiveTest, SeveralPatternsTakeOldestMatchingMessageNotFirstPattern) {
  Inbox inbox(rt());
  Pid pid = spawn_after_go(inbox.pid(), [](Context self, Seen& seen) -> Task<> {
    for (int i = 0; i < 2; ++i) {
      co_await self.receive([&](A& a) { seen.items.push_back("A" + std::to_string(a.v)); },
                            [&](B& b) { seen.items.push_back("B" + std::to_string(b.v)); });
    }
    seen.items.push_back("left=" + std::to_string(self.message_queue_len()));
    C c = co_await self.receive<C>();
    seen.items.push_back("C" + std::to_string(c.v));
  });
  rt().send(pid, C{1});
  rt().send(pid, B{1});
  rt().send(pid, A{1});
  rt().send(pid, Go{});
  std::vector<std::string> expected{"B1", "A1", "left=1", "C1"};
  EXPECT_EQ(must_receive<Seen>(inbox).items, expected);
}

TEST_P(ReceiveTest, GuardSkipsMessagesItRejectsAndLeavesThemQueued) {
  Inbox inbox(rt());
  Pid pid = spawn_after_go(inbox.pid(), [](Context self, Seen& seen) -> Task<> {
    for (int i = 0; i < 2; ++i) {
      co_await self.receive(match([](const A& a) { return a.v > 10; },
                                  [&](A& a) { seen.items.push_back(std::to_string(a.v)); }));
    }
    for (int i = 0; i < 2; ++i) {
      A a = co_await self.receive<A>();
      seen.items.push_back(std::to_string(a.v));
    }
  });
  for (int v : {1, 20, 3, 30}) rt().send(pid, A{v});
  rt().send(pid, Go{});
  std::vector<std::string> expected{"20", "30", "1", "3"};
  EXPECT_EQ(must_receive<Seen>(inbox).items, expected);
}

TEST_P(ReceiveTest, AfterFiresWhenNothingMatchesAndKeepsUnmatchedMessages) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    co_await self.receive<Go>();
    bool fired = false;
    int64_t start = self.runtime().now_ms();
    bool matched = co_await self.receive([&](A&) {}, after(50ms, [&] { fired = true; }));
    int64_t waited = self.runtime().now_ms() - start;
    B b = co_await self.receive<B>();
    self.send(to, Elapsed{matched, waited});
    self.send(to, Seen{{fired ? "fired" : "not fired", "B" + std::to_string(b.v)}});
  });
  rt().send(pid, B{7});
  rt().send(pid, Go{});
  Elapsed e = must_receive<Elapsed>(inbox);
  EXPECT_FALSE(e.matched);
  EXPECT_TRUE(matches_wait(e.ms, 50));
  std::vector<std::string> expected{"fired", "B7"};
  EXPECT_EQ(must_receive<Seen>(inbox).items, expected);
}

TEST_P(ReceiveTest, AfterDoesNotFireWhenMessageArrivesInTime) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    bool fired = false;
    int got = 0;
    bool matched =
        co_await self.receive([&](A& a) { got = a.v; }, after(kWait, [&] { fired = true; }));
    self.send(to, Seen{{matched ? "matched" : "timeout", fired ? "fired" : "quiet",
                        std::to_string(got)}});
  });
  rt().send(pid, A{5});
  std::vector<std::string> expected{"matched", "quiet", "5"};
  EXPECT_EQ(must_receive<Seen>(inbox).items, expected);
}

struct Poll {
  bool matched;
  int64_t waited_ms;
  int value;
};

TEST_P(ReceiveTest, AfterZeroPollsWithoutWaiting) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    int64_t start = self.runtime().now_ms();
    bool empty_poll = co_await self.receive([](A&) {}, after(0ms, [] {}));
    self.send(to, Poll{empty_poll, self.runtime().now_ms() - start, 0});
    co_await self.receive<Go>();
    int got = 0;
    bool full_poll = co_await self.receive([&](A& a) { got = a.v; }, after(0ms, [] {}));
    self.send(to, Poll{full_poll, 0, got});
  });
  Poll first = must_receive<Poll>(inbox);
  EXPECT_FALSE(first.matched);
  if (deterministic()) {
    EXPECT_EQ(first.waited_ms, 0);
  }
  rt().send(pid, A{9});
  rt().send(pid, Go{});
  Poll second = must_receive<Poll>(inbox);
  EXPECT_TRUE(second.matched);
  EXPECT_EQ(second.value, 9);
}

TEST_P(ReceiveTest, ReceiveTWithTimeoutIsEmptyOnTimeoutAndHoldsValueOtherwise) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    std::optional<A> none = co_await self.receive<A>(20ms);
    self.send(to, Seen{{none ? "value" : "empty"}});
    std::optional<A> some = co_await self.receive<A>(kWait);
    self.send(to, Seen{{some ? std::to_string(some->v) : "empty"}});
  });
  EXPECT_EQ(must_receive<Seen>(inbox).items, std::vector<std::string>{"empty"});
  rt().send(pid, A{11});
  EXPECT_EQ(must_receive<Seen>(inbox).items, std::vector<std::string>{"11"});
}

TEST_P(ReceiveTest, FlushEmptiesMailboxAndReturnsCount) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    co_await self.receive<Go>();
    size_t before = self.message_queue_len();
    size_t flushed = self.flush();
    size_t after_flush = self.message_queue_len();
    self.send(to,
              Seen{{std::to_string(before), std::to_string(flushed), std::to_string(after_flush)}});
    // Later messages are received normally.
    A a = co_await self.receive<A>();
    self.send(to, Seen{{std::to_string(a.v)}});
  });
  rt().send(pid, A{1});
  rt().send(pid, B{2});
  rt().send(pid, C{3});
  rt().send(pid, A{4});
  rt().send(pid, std::string("five"));
  rt().send(pid, Go{});
  std::vector<std::string> expected{"5", "5", "0"};
  EXPECT_EQ(must_receive<Seen>(inbox).items, expected);
  rt().send(pid, A{6});
  EXPECT_EQ(must_receive<Seen>(inbox).items, std::vector<std::string>{"6"});
}

TEST_P(ReceiveTest, InboxFlushAndQueueLen) {
  Inbox inbox(rt());
  for (int i = 0; i < 3; ++i) inbox.context().send(inbox.pid(), A{i});
  drain(inbox);
  EXPECT_EQ(inbox.context().message_queue_len(), 3u);
  EXPECT_EQ(inbox.context().flush(), 3u);
  EXPECT_EQ(inbox.context().message_queue_len(), 0u);
  EXPECT_TRUE(nothing_of_type<A>(inbox));
}

TEST_P(ReceiveTest, MessagesFromOneSenderArriveInSendOrder) {
  Inbox inbox(rt());
  constexpr int kN = 10000;
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    long long out_of_order = 0;
    for (int i = 0; i < kN; ++i) {
      A a = co_await self.receive<A>();
      if (a.v != i) ++out_of_order;
    }
    self.send(to, Count{out_of_order});
  });
  for (int i = 0; i < kN; ++i) rt().send(pid, A{i});
  EXPECT_EQ(must_receive<Count>(inbox).n, 0);
}

TEST_P(ReceiveTest, InboxReceiveAnyReturnsMessagesInArrivalOrder) {
  Inbox inbox(rt());
  inbox.context().send(inbox.pid(), A{1});
  inbox.context().send(inbox.pid(), B{2});
  std::optional<Message> first = inbox.receive_any(kWait);
  std::optional<Message> second = inbox.receive_any(kWait);
  ASSERT_TRUE(first && second);
  ASSERT_TRUE(first->is<A>());
  EXPECT_EQ(first->get<A>().v, 1);
  ASSERT_TRUE(second->is<B>());
  EXPECT_EQ(second->get<B>().v, 2);
  EXPECT_FALSE(inbox.receive_any(0ms).has_value());
}

TEST_P(ReceiveTest, MoveOnlyMessagesAreMovedIntoHandlers) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    std::unique_ptr<int> got;
    co_await self.receive([&](std::unique_ptr<int> p) { got = std::move(p); });
    self.send(to, A{got ? *got : -1});
  });
  rt().send(pid, std::make_unique<int>(77));
  EXPECT_EQ(must_receive<A>(inbox).v, 77);
}

Task<int> receive_sum(Context self, int n) {
  int sum = 0;
  for (int i = 0; i < n; ++i) {
    A a = co_await self.receive<A>();
    sum += a.v;
  }
  co_return sum;
}

TEST_P(ReceiveTest, NestedTaskReceivesOnBehalfOfProcess) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    int sum = co_await receive_sum(self, 3);
    self.send(to, B{sum});
  });
  for (int v : {1, 2, 3}) rt().send(pid, A{v});
  EXPECT_EQ(must_receive<B>(inbox).v, 6);
}

// A plain process serves calls with a Call<T> pattern.
Task<> adder(Context self) {
  for (;;) {
    bool stop = false;
    co_await self.receive([&](Call<Add>& c) { self.reply(c.from, c.request.a + c.request.b); },
                          [&](Stop&) { stop = true; });
    if (stop) co_return;
  }
}

TEST_P(ReceiveTest, CallPatternServesCallsInPlainProcess) {
  Inbox inbox(rt());
  Pid pid = rt().spawn(adder);
  plexus::Result<int> r = inbox.call<int>(pid, Add{2, 3});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 5);

  // And from another process, with co_await.
  Pid to = inbox.pid();
  rt().spawn([to, pid](Context self) -> Task<> {
    plexus::Result<int> sum = co_await self.call<int>(pid, Add{20, 22});
    self.send(to, A{sum.ok() ? *sum : -1});
  });
  EXPECT_EQ(must_receive<A>(inbox).v, 42);
  rt().send(pid, Stop{});
}

TEST_P(ReceiveTest, InboxCallMakesRepeatedCallsFromTestThread) {
  Inbox inbox(rt());
  Pid pid = rt().spawn(adder);
  int wrong = 0;
  for (int i = 0; i < 100; ++i) {
    plexus::Result<int> r = inbox.call<int>(pid, Add{i, 1});
    if (!r.ok() || *r != i + 1) ++wrong;
  }
  EXPECT_EQ(wrong, 0);
  rt().send(pid, Stop{});
}

TEST_P(ReceiveTest, CallIsNotMatchedByPlainMessagePatternOfSameType) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    // The plain Add pattern takes only the plain message, wherever the call
    // sits in the mailbox; the call stays queued for the Call<Add> pattern.
    co_await self.receive<Go>();
    Add plain = co_await self.receive<Add>();
    self.send(to, A{plain.a});
    co_await self.receive([&](Call<Add>& c) { self.reply(c.from, c.request.a * c.request.b); });
  });
  // The call is made from a helper process so the test thread stays free.
  rt().spawn([to, pid](Context self) -> Task<> {
    plexus::Result<int> r = co_await self.call<int>(pid, Add{6, 7});
    self.send(to, B{r.ok() ? *r : -1});
  });
  rt().send(pid, Add{100, 0});
  rt().send(pid, Go{});
  EXPECT_EQ(must_receive<A>(inbox).v, 100);
  EXPECT_EQ(must_receive<B>(inbox).v, 42);
}

// A forwarder (what a hub child does once it has handed its state over):
// receive_any_request takes messages and calls alike, in mailbox order, and
// forward() sends each on as it came, so the call is answered by the process
// it went on to, to its caller.
TEST_P(ReceiveTest, ForwardSendsMessagesAndCallsOnAsTheyCame) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid next = rt().spawn([to](Context self) -> Task<> {
    Seen seen;
    for (int i = 0; i < 3; ++i) {
      co_await self.receive([&](A& a) { seen.items.push_back("A" + std::to_string(a.v)); },
                            [&](Call<Add>& c) {
                              seen.items.push_back("call");
                              self.reply(c.from, c.request.a + c.request.b);
                            });
    }
    self.send(to, std::move(seen));
  });
  Pid forwarder = rt().spawn([next](Context self) -> Task<> {
    co_await self.receive<Go>();
    for (int i = 0; i < 3; ++i) {
      std::optional<plexus::Message> m = co_await self.receive_any_request(std::chrono::seconds(5));
      if (m) (void)self.forward(next, std::move(*m));
    }
    // Alive until the reply is in: a caller whose callee dies first gets
    // kExited, as with any call.
    co_await self.receive<Stop>();
  });
  rt().send(forwarder, A{1});
  rt().spawn([to, forwarder](Context self) -> Task<> {
    plexus::Result<int> r = co_await self.call<int>(forwarder, Add{40, 2});
    self.send(to, B{r.ok() ? *r : -1});
  });
  // The call is in the forwarder's mailbox before A{2} and Go.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rt().process_info(forwarder).value().message_queue_len < 2) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "the call never came";
    std::this_thread::yield();
  }
  rt().send(forwarder, A{2});
  rt().send(forwarder, Go{});
  EXPECT_EQ(must_receive<B>(inbox).v, 42);
  EXPECT_EQ(must_receive<Seen>(inbox).items, (std::vector<std::string>{"A1", "call", "A2"}));
  rt().send(forwarder, Stop{});
}

PLEXUS_INSTANTIATE_SCHEDULERS(ReceiveTest);

}  // namespace
}  // namespace plexus_test

// Scale: a million processes come and go without leaking, a 100,000-process
// link chain dies entirely, and concurrent senders lose nothing and keep
// per-sender order. Every build, sanitizers included, runs the full sizes.
#include <gtest/gtest.h>

#include <array>
#include <thread>
#include <vector>

#include "plexus/plexus.h"
#include "test_processes.h"
#include "test_support.h"

namespace plexus_test {
namespace {

constexpr std::chrono::milliseconds kStressWait = kWait * 6;

struct Tally {
  long long downs;
  long long normal;
};
struct Go {};
struct Seq {
  int sender;
  long long i;
};
struct OrderReport {
  long long total;
  long long out_of_order;
  std::array<long long, 2> last;
};
struct Token {
  int hops;
};
struct Next {
  Pid pid;
};

class StressTest : public SchedTest {};

// Spawns `total` short-lived monitored processes in batches and counts the
// Downs; reports once every one of them has fired.
Task<> spawner(Context self, Pid to, long long total) {
  constexpr long long kBatch = 10000;
  long long downs = 0;
  long long normal = 0;
  for (long long done = 0; done < total;) {
    long long batch = std::min(kBatch, total - done);
    for (long long i = 0; i < batch; ++i) {
      std::pair<Pid, Ref> child = self.spawn_monitor([] {});
      if (!child.first) self.exit(ExitReason::error("spawn failed"));
    }
    for (long long i = 0; i < batch; ++i) {
      Down d = co_await self.receive<Down>();
      ++downs;
      if (d.reason.is_normal()) ++normal;
    }
    done += batch;
  }
  self.send(to, Tally{downs, normal});
}

TEST_P(StressTest, MillionProcessesSpawnAndExitWithoutLeak) {
  Inbox inbox(rt());
  const long long n = 1000000;
  size_t base = rt().process_count();
  Pid pid = rt().spawn(spawner, inbox.pid(), n);
  Ref ref = inbox.context().monitor(pid);
  Tally t = must_receive<Tally>(inbox, kStressWait);
  EXPECT_EQ(t.downs, n);
  EXPECT_EQ(t.normal, n);
  EXPECT_TRUE(must_receive_down(inbox, ref).reason.is_normal());
  EXPECT_TRUE(eventually(rt(), [&] { return rt().process_count() == base; }))
      << rt().process_count() << " processes live, " << base << " expected";
}

TEST_P(StressTest, HundredThousandLinkChainDiesWhenItsEndIsKilled) {
  Inbox inbox(rt());
  const int n = 100000;
  size_t base = rt().process_count();
  rt().spawn(chain_link, n - 1, inbox.pid());
  std::vector<Pid> chain;
  chain.reserve(n);
  for (int i = 0; i < n; ++i) chain.push_back(must_receive<Joined>(inbox, kStressWait).pid);
  EXPECT_EQ(rt().process_count(), base + n);
  std::vector<Ref> refs;
  refs.reserve(n);
  for (Pid pid : chain) refs.push_back(inbox.context().monitor(pid));

  rt().exit(chain.back(), ExitReason::kill());
  long long killed = 0;
  long long other = 0;
  for (int i = 0; i < n; ++i) {
    Down d = must_receive<Down>(inbox, kStressWait);
    if (d.reason == ExitReason::killed()) {
      ++killed;
    } else {
      ++other;
    }
  }
  EXPECT_EQ(killed, n);
  EXPECT_EQ(other, 0);
  EXPECT_FALSE(rt().alive(chain.front()));
  EXPECT_TRUE(eventually(rt(), [&] { return rt().process_count() == base; }))
      << rt().process_count() << " processes live, " << base << " expected";
}

// A ring member learns its successor, then forwards the token until it has
// made `total` hops; whoever makes the last hop reports.
Task<> ring_member(Context self, Pid to, int total) {
  Next next = co_await self.receive<Next>();
  for (;;) {
    Token t = co_await self.receive<Token>();
    if (t.hops + 1 == total) {
      self.send(to, Token{t.hops + 1});
      co_return;
    }
    self.send(next.pid, Token{t.hops + 1});
  }
}

TEST_P(StressTest, TokenTravelsTenTimesAroundRingOfTenThousandProcesses) {
  Inbox inbox(rt());
  const int size = 10000;
  const int total = size * 10;
  std::vector<Pid> ring;
  for (int i = 0; i < size; ++i) ring.push_back(rt().spawn(ring_member, inbox.pid(), total));
  for (int i = 0; i < size; ++i) rt().send(ring[i], Next{ring[(i + 1) % size]});
  rt().send(ring[0], Token{0});
  Token t = must_receive<Token>(inbox, kStressWait);
  EXPECT_EQ(t.hops, total);
}

PLEXUS_INSTANTIATE_SCHEDULERS(StressTest);

// ---- Concurrent senders (threaded runtime only)

Task<> ordered_consumer(Context self, Pid to, long long expected) {
  std::array<long long, 2> next{0, 0};
  long long out_of_order = 0;
  long long total = 0;
  while (total < expected) {
    Seq s = co_await self.receive<Seq>();
    if (s.i != next[s.sender]) ++out_of_order;
    next[s.sender] = s.i + 1;
    ++total;
  }
  self.send(to, OrderReport{total, out_of_order, {next[0] - 1, next[1] - 1}});
}

// Two senders each send kPerSender Seqs to one ordered_consumer.
class ConcurrentSendTest : public ::testing::Test {
 protected:
  static constexpr long long kPerSender = 500000;

  ConcurrentSendTest()
      : rt_(runtime_options(Sched::kThreaded, &logs_)),
        inbox_(rt_),
        consumer_(rt_.spawn(ordered_consumer, inbox_.pid(), 2 * kPerSender)) {}

  // Checks the consumer's report: nothing lost, each sender's Seqs in order.
  void expect_all_arrived_in_order() {
    OrderReport r = must_receive<OrderReport>(inbox_, kStressWait);
    EXPECT_EQ(r.total, 2 * kPerSender);
    EXPECT_EQ(r.out_of_order, 0);
    EXPECT_EQ(r.last[0], kPerSender - 1);
    EXPECT_EQ(r.last[1], kPerSender - 1);
  }

  LogCapture logs_;  // declared first: outlives the runtime that logs to it
  Runtime rt_;
  Inbox inbox_;
  Pid consumer_;
};

TEST_F(ConcurrentSendTest, TwoProcessesSendingToOneLoseNothingAndKeepOrder) {
  std::vector<Pid> producers;
  for (int id = 0; id < 2; ++id) {
    producers.push_back(rt_.spawn(
        [](Context self, Pid consumer, int id, long long count) -> Task<> {
          co_await self.receive<Go>();
          for (long long i = 0; i < count; ++i) self.send(consumer, Seq{id, i});
        },
        consumer_, id, kPerSender));
  }
  for (Pid p : producers) rt_.send(p, Go{});
  expect_all_arrived_in_order();
}

TEST_F(ConcurrentSendTest, TwoThreadsSendingToOneLoseNothingAndKeepOrder) {
  std::vector<std::thread> threads;
  for (int id = 0; id < 2; ++id) {
    threads.emplace_back(
        [this](int sender, long long count) {
          for (long long i = 0; i < count; ++i) rt_.send(consumer_, Seq{sender, i});
        },
        id, kPerSender);
  }
  for (std::thread& t : threads) t.join();
  expect_all_arrived_in_order();
}

}  // namespace
}  // namespace plexus_test

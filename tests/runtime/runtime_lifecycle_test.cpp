// The runtime as a whole: fairness between processes, deterministic stepping,
// an idle node sleeping, and shutdown ending every process without leaks.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::RuntimeOptions;
using plexus::Server;

struct Work {};
struct Probe {};
struct Progress {
  int consumed;
};
struct Stop {};

// Counts the objects alive, to show that shutdown destroys what processes own.
struct Tracked {
  explicit Tracked(std::atomic<int>* n) : live(n) { live->fetch_add(1); }
  Tracked(Tracked&& other) noexcept : live(std::exchange(other.live, nullptr)) {}
  Tracked(const Tracked&) = delete;
  ~Tracked() {
    if (live) live->fetch_sub(1);
  }
  std::atomic<int>* live;
};

struct Go {};

Task<> busy_consumer(Context self, std::atomic<int>* consumed, int total) {
  for (int i = 0; i < total; ++i) {
    co_await self.receive<Work>();
    consumed->fetch_add(1, std::memory_order_relaxed);
  }
}

Task<> prober(Context self, std::atomic<int>* consumed, Pid report) {
  co_await self.receive<Probe>();
  self.send(report, Progress{consumed->load(std::memory_order_relaxed)});
}

Task<> gated_consumer(Context self, std::atomic<int>* consumed, int total) {
  co_await self.receive<Go>();  // the backlog queues up meanwhile
  co_await busy_consumer(self, consumed, total);
}

// One scheduler thread, a process with 100,000 queued messages, and another
// made runnable just after it: the second runs long before the first is done,
// because a turn takes at most messages_per_turn messages.
TEST(RuntimeLifecycleTest, BusyProcessCannotStarveAnother) {
  constexpr int kMessages = 100000;
  std::atomic<int> consumed{0};  // outlives the runtime, whose processes use it
  Runtime rt(RuntimeOptions{.schedulers = 1});
  Inbox inbox(rt);
  Pid busy = rt.spawn(gated_consumer, &consumed, kMessages);
  Pid probe = rt.spawn(prober, &consumed, inbox.pid());
  for (int i = 0; i < kMessages; ++i) rt.send(busy, Work{});
  rt.send(busy, Go{});
  rt.send(probe, Probe{});
  Progress p = must_receive<Progress>(inbox);
  EXPECT_LT(p.consumed, kMessages / 2) << "the probe waited for most of the busy process's backlog";
}

// In deterministic mode a step is one turn of one message, in FIFO order.
TEST(RuntimeLifecycleTest, DeterministicStepRunsOneMessageOfOneProcess) {
  std::atomic<int> a{0};
  std::atomic<int> b{0};
  Runtime rt(RuntimeOptions{.deterministic = true});
  Pid pa = rt.spawn(busy_consumer, &a, 3);
  Pid pb = rt.spawn(busy_consumer, &b, 3);
  EXPECT_EQ(rt.run_until_idle(), 2u) << "each process ran to its first receive";
  for (int i = 0; i < 3; ++i) rt.send(pa, Work{});
  for (int i = 0; i < 3; ++i) rt.send(pb, Work{});
  ASSERT_TRUE(rt.step());
  EXPECT_EQ(a.load(), 1);
  EXPECT_EQ(b.load(), 0);
  ASSERT_TRUE(rt.step());
  EXPECT_EQ(b.load(), 1);
  ASSERT_TRUE(rt.step());
  EXPECT_EQ(a.load(), 2);
  rt.run_until_idle();
  EXPECT_EQ(a.load(), 3);
  EXPECT_EQ(b.load(), 3);
  EXPECT_FALSE(rt.step());
}

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) {
    return static_cast<double>(tv.tv_sec) + tv.tv_usec / 1e6;
  };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

// Threads with nothing to run sleep: processes parked in receive and a timer
// due much later cost (almost) no CPU.
TEST(RuntimeLifecycleTest, IdleRuntimeUsesAlmostNoCpu) {
  Runtime rt(RuntimeOptions{.schedulers = 2});
  Inbox inbox(rt);
  for (int i = 0; i < 1000; ++i) {
    rt.spawn([](Context self) -> Task<> { co_await self.receive<Stop>(); });
  }
  rt.send_after(inbox.pid(), std::chrono::hours(1), Stop{});
  // Let the spawned processes reach their receive and the threads settle.
  ASSERT_FALSE(inbox.receive<Work>(200ms).has_value());
  double cpu_before = cpu_seconds();
  auto wall_before = std::chrono::steady_clock::now();
  ASSERT_FALSE(inbox.receive<Work>(1000ms).has_value());
  double wall =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_before).count();
  double cpu = cpu_seconds() - cpu_before;
  EXPECT_LT(cpu / wall, 0.05) << "an idle runtime used " << cpu << " s of CPU in " << wall << " s";
}

class TrackedServer : public Server {
 public:
  explicit TrackedServer(std::atomic<int>* live) : state_(live) {}

 private:
  Tracked state_;
};

// Shutdown ends every process (coroutine frames and servers destroyed, so
// what they own is released), drops queued messages and pending timers; the
// sanitizer build's leak check sees anything left behind.
TEST(RuntimeLifecycleTest, ShutdownEndsEveryProcessAndReleasesWhatTheyOwn) {
  std::atomic<int> live{0};
  {
    Runtime rt(RuntimeOptions{.schedulers = 2});
    Inbox ready(rt);
    constexpr int kProcesses = 1000;
    for (int i = 0; i < kProcesses; ++i) {
      Pid pid = rt.spawn(
          [](Context self, Tracked t, Pid ready) -> Task<> {
            Tracked local(t.live);
            self.send(ready, Probe{});
            co_await self.receive<Stop>();
          },
          Tracked(&live), ready.pid());
      // Messages that will never be received, and a timer that never fires.
      rt.send(pid, Tracked(&live));
      rt.send_after(pid, std::chrono::hours(1), Tracked(&live));
    }
    for (int i = 0; i < 10; ++i) rt.spawn_server<TrackedServer>(&live);
    for (int i = 0; i < kProcesses; ++i) must_receive<Probe>(ready);
    EXPECT_GE(live.load(), 4 * kProcesses + 10);
    rt.shutdown();
    EXPECT_EQ(rt.process_count(), 0u);
    EXPECT_EQ(live.load(), 0)
        << "objects owned by processes, mailboxes or timers survived shutdown";
    EXPECT_FALSE(rt.spawn([] {}).valid()) << "no spawning after shutdown";
  }
  EXPECT_EQ(live.load(), 0);
}

}  // namespace
}  // namespace plexus_test

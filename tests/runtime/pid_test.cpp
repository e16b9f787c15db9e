// Pids and refs: printing, the null pid, and that a pid names one process for
// its whole life and never the process that later reuses its slot.
#include <gtest/gtest.h>

#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {
namespace {

struct Probe {
  int tag;
};
struct Got {
  Pid pid;
  int tag;
};
struct Stop {};

TEST(PidTest, NullPidIsInvalidAndNamesNoProcess) {
  Pid pid;
  EXPECT_FALSE(pid.valid());
  EXPECT_FALSE(static_cast<bool>(pid));
  EXPECT_EQ(pid.serial, 0u);
  EXPECT_EQ(pid, Pid{});
  EXPECT_EQ(pid.to_string(), "<none>");
}

TEST(PidTest, PrintsAsErlangNodeIndexSerial) {
  // Incarnations are stored from 1 and printed from 0, as Erlang prints them.
  Pid pid{0, 112, 1};
  EXPECT_TRUE(pid.valid());
  EXPECT_EQ(pid.to_string(), "<0.112.0>");
  std::ostringstream os;
  os << Pid{0, 7, 3};
  EXPECT_EQ(os.str(), "<0.7.2>");
}

TEST(PidTest, RefPrintsAsHashRefAndNullRefIsInvalid) {
  Ref ref{42};
  EXPECT_TRUE(ref.valid());
  EXPECT_EQ(ref.to_string(), "#Ref<0.42>");
  std::ostringstream os;
  os << ref;
  EXPECT_EQ(os.str(), "#Ref<0.42>");
  EXPECT_FALSE(Ref{}.valid());
}

TEST(PidTest, PidsOrderAndHashByAllFields) {
  Pid a{0, 5, 1};
  Pid b{0, 5, 2};
  Pid c{0, 6, 1};
  EXPECT_NE(a, b);
  EXPECT_LT(a, b);
  EXPECT_LT(b, c);
  std::hash<Pid> h;
  EXPECT_NE(h(a), h(b));
}

class PidRuntimeTest : public SchedTest {};

TEST_P(PidRuntimeTest, SpawnedPidsAreValidLocalAndDistinct) {
  std::set<Pid> seen;
  for (int i = 0; i < 100; ++i) {
    Pid pid = rt().spawn([](Context self) -> Task<> { co_await self.receive<Stop>(); });
    ASSERT_TRUE(pid.valid());
    EXPECT_EQ(pid.node, 0u);
    EXPECT_EQ(pid.to_string(),
              "<0." + std::to_string(pid.index) + "." + std::to_string(pid.serial - 1) + ">");
    EXPECT_TRUE(seen.insert(pid).second) << pid << " was handed out twice";
  }
  for (Pid pid : seen) rt().send(pid, Stop{});
}

TEST_P(PidRuntimeTest, MonitorRefsAreUnique) {
  Inbox inbox(rt());
  Pid target = rt().spawn([](Context self) -> Task<> { co_await self.receive<Stop>(); });
  std::set<Ref> refs;
  for (int i = 0; i < 100; ++i) {
    Ref ref = inbox.context().monitor(target);
    ASSERT_TRUE(ref.valid());
    EXPECT_TRUE(refs.insert(ref).second) << ref << " was handed out twice";
  }
  rt().send(target, Stop{});
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(must_receive<Down>(inbox).reason.is_normal());
}

// A table of 8 slots forces the slot of an exited process to be reused; a
// message sent to the old pid must reach neither the new process nor anyone.
TEST(PidSlotReuseTest, StalePidNeverReachesProcessThatReusesItsSlot) {
  for (Sched sched : {Sched::kDeterministic, Sched::kThreaded}) {
    SCOPED_TRACE(sched == Sched::kDeterministic ? "deterministic" : "threaded");
    LogCapture logs;
    plexus::RuntimeOptions options = runtime_options(sched, &logs);
    options.max_processes = 8;
    Runtime rt(options);
    Inbox inbox(rt);

    auto [old_pid, ref] = inbox.context().spawn_monitor([] {});
    ASSERT_TRUE(old_pid.valid());
    Down down = must_receive_down(inbox, ref);
    EXPECT_TRUE(down.reason.is_normal());
    EXPECT_FALSE(rt.alive(old_pid));

    Pid to = inbox.pid();
    auto receiver = [to](Context self) -> Task<> {
      Probe p = co_await self.receive<Probe>();
      self.send(to, Got{self.self(), p.tag});
      co_await self.receive<Stop>();
    };

    // Spawn until one process gets the old slot. Its Down was delivered, so
    // the slot is free or about to be; a full table returns the null pid.
    std::vector<Pid> others;
    Pid reuser;
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (!reuser && std::chrono::steady_clock::now() < deadline) {
      Pid pid = rt.spawn(receiver);
      if (!pid) {
        // Table full: the old slot is still being released. Let it finish.
        if (sched == Sched::kDeterministic) {
          rt.step();
        } else {
          std::this_thread::yield();
        }
        continue;
      }
      if (pid.index == old_pid.index) {
        reuser = pid;
      } else {
        others.push_back(pid);
      }
    }
    ASSERT_TRUE(reuser.valid()) << "slot " << old_pid.index << " was never reused";
    EXPECT_NE(reuser, old_pid);
    EXPECT_NE(reuser.serial, old_pid.serial);
    EXPECT_FALSE(rt.alive(old_pid));
    EXPECT_TRUE(rt.alive(reuser));

    // Stale first, fresh second: the reuser must see the fresh one first.
    rt.send(old_pid, Probe{1});
    inbox.context().send(old_pid, Probe{1});
    rt.send(reuser, Probe{2});
    Got got = must_receive<Got>(inbox);
    EXPECT_EQ(got.pid, reuser);
    EXPECT_EQ(got.tag, 2) << "a message sent to " << old_pid << " reached " << reuser;

    // Nobody else got the stale probe either.
    for (Pid pid : others) rt.send(pid, Probe{3});
    for (size_t i = 0; i < others.size(); ++i) {
      Got g = must_receive<Got>(inbox);
      EXPECT_EQ(g.tag, 3) << g.pid << " received a probe sent to " << old_pid;
    }
    EXPECT_TRUE(nothing_of_type<Got>(inbox));
  }
}

TEST_P(PidRuntimeTest, SpawnReturnsNullPidWhenProcessTableIsFull) {
  LogCapture logs;
  plexus::RuntimeOptions options = runtime_options(GetParam(), &logs);
  options.max_processes = 4;
  Runtime rt(options);
  std::vector<Pid> pids;
  for (int i = 0; i < 4; ++i) {
    Pid pid = rt.spawn([](Context self) -> Task<> { co_await self.receive<Stop>(); });
    ASSERT_TRUE(pid.valid());
    pids.push_back(pid);
  }
  EXPECT_EQ(rt.process_count(), 4u);
  Pid overflow = rt.spawn([](Context self) -> Task<> { co_await self.receive<Stop>(); });
  EXPECT_FALSE(overflow.valid());
  EXPECT_EQ(rt.process_count(), 4u);
}

PLEXUS_INSTANTIATE_SCHEDULERS(PidRuntimeTest);

}  // namespace
}  // namespace plexus_test

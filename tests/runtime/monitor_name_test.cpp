// Monitors of a registered name, as erlang:monitor(process, Name): the name
// is looked up once, the monitor then follows that process, and the Down
// names the monitor by {Name, Node}.
#include <gtest/gtest.h>

#include <sstream>

#include "plexus/plexus.h"
#include "test_processes.h"
#include "test_support.h"

namespace plexus_test {
namespace {

class MonitorNameTest : public SchedTest {};

TEST_P(MonitorNameTest, TheDownOfANameMonitorNamesTheNameAndThePid) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  ASSERT_TRUE(rt().register_name("room", target).ok());
  Ref ref = inbox.context().monitor("room");
  rt().send(target, Crash{ExitReason::error("x")});
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.name(), "room");
  EXPECT_EQ(down.node(), "") << "a runtime without a node";
  EXPECT_EQ(down.pid, target);
  EXPECT_EQ(down.reason, ExitReason::error("x"));
}

TEST_P(MonitorNameTest, AnUnregisteredNameGivesNoprocAtOnce) {
  Inbox inbox(rt());
  Ref ref = inbox.context().monitor("nobody");
  Down down = must_receive_down(inbox, ref, deterministic() ? 0ms : kWait);
  EXPECT_EQ(down.name(), "nobody");
  EXPECT_FALSE(down.pid.valid());
  EXPECT_EQ(down.reason, ExitReason::noproc());
  EXPECT_FALSE(inbox.context().demonitor(ref)) << "a noproc monitor is not active";
}

// The name is resolved when the monitor is made: the process that takes the
// name afterwards is not watched, and the one that had it is.
TEST_P(MonitorNameTest, TheMonitorFollowsTheProcessNotTheName) {
  Inbox inbox(rt());
  Pid first = rt().spawn(worker);
  Pid second = rt().spawn(worker);
  ASSERT_TRUE(rt().register_name("room", first).ok());
  Ref ref = inbox.context().monitor("room");
  ASSERT_TRUE(rt().unregister("room").ok());
  ASSERT_TRUE(rt().register_name("room", second).ok());
  rt().send(second, Crash{ExitReason::error("second")});
  Ref watch_second = inbox.context().monitor(second);
  must_receive_down(inbox, watch_second);
  EXPECT_TRUE(nothing_of_type<Down>(inbox)) << "the name's new process is not watched";
  rt().send(first, Crash{ExitReason::error("first")});
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.pid, first);
  EXPECT_EQ(down.reason, ExitReason::error("first"));
}

TEST_P(MonitorNameTest, DemonitorEndsANameMonitor) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  ASSERT_TRUE(rt().register_name("room", target).ok());
  Ref ref = inbox.context().monitor("room");
  EXPECT_TRUE(inbox.context().demonitor(ref));
  EXPECT_FALSE(inbox.context().demonitor(ref));
  Ref watch = inbox.context().monitor(target);
  rt().send(target, Stop{});
  EXPECT_EQ(must_receive<Down>(inbox).ref, watch) << "no Down for the demonitored name";
  EXPECT_TRUE(nothing_of_type<Down>(inbox));
}

// As monitor(process, RegisteredNameOfSelf) in Erlang: a ref and no monitor.
TEST_P(MonitorNameTest, MonitoringOnesOwnNameMakesNoMonitor) {
  Inbox inbox(rt());
  ASSERT_TRUE(inbox.context().register_name("me").ok());
  Ref ref = inbox.context().monitor("me");
  EXPECT_TRUE(ref.valid());
  EXPECT_FALSE(inbox.context().demonitor(ref));
  EXPECT_TRUE(nothing_of_type<Down>(inbox));
}

// A runtime with no node cannot reach another: noconnection at once, with the
// monitor named by the name and the node asked for.
TEST_P(MonitorNameTest, ANameOnAnotherNodeWithoutANodeIsNoconnection) {
  Inbox inbox(rt());
  Ref ref = inbox.context().monitor("room", "b@127.0.0.1:4001");
  Down down = must_receive_down(inbox, ref, deterministic() ? 0ms : kWait);
  EXPECT_EQ(down.name(), "room");
  EXPECT_EQ(down.node(), "b@127.0.0.1:4001");
  EXPECT_EQ(down.reason, ExitReason::noconnection());
  // An empty node is this one.
  Pid target = rt().spawn(worker);
  ASSERT_TRUE(rt().register_name("here", target).ok());
  Ref local = inbox.context().monitor("here", "");
  rt().send(target, Stop{});
  Down here = must_receive_down(inbox, local);
  EXPECT_EQ(here.name(), "here");
  EXPECT_TRUE(here.reason.is_normal());
}

TEST_P(MonitorNameTest, ADownPrintsItsNameAndNode) {
  Down down{Ref{}, Pid{}, ExitReason::noproc(),
            plexus::detail::Indirect<plexus::RegisteredName>({"room", "b@h:1"})};
  std::ostringstream os;
  os << down;
  EXPECT_NE(os.str().find("{room, b@h:1}"), std::string::npos) << os.str();
}

PLEXUS_INSTANTIATE_SCHEDULERS(MonitorNameTest);

}  // namespace
}  // namespace plexus_test

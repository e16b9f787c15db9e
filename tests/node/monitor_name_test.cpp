// Monitors of a name on another node, as erlang:monitor(process, {Name,
// Node}), over real TCP: the name is looked up where it lives when the
// monitor arrives, and every Down names the monitor by {Name, Node}.
#include <gtest/gtest.h>

#include "node_test_support.h"

namespace plexus_test {
namespace {

using plexus_test::Text;

// Waits for a Text and exits with its text as an error reason ("normal" exits normally).
Task<> exit_on_text(Context self) {
  Text t = co_await self.receive<Text>();
  if (t.text() == "normal") co_return;
  self.exit(ExitReason::error(t.text()));
}

class MonitorNameAcrossNodesTest : public TwoNodeTest {
 protected:
  // Spawns exit_on_text on b registered as `name`; its pid as b sees it.
  Pid registered_on_b(const std::string& name) {
    Pid pid = b_->runtime().spawn(exit_on_text);
    EXPECT_TRUE(b_->runtime().register_name(name, pid).ok());
    return pid;
  }
};

TEST_F(MonitorNameAcrossNodesTest, TheDownNamesTheNameAndTheNode) {
  Pid room = registered_on_b("room");
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor("room", b_->name());
  // The monitor and the message cross on one connection, in this order.
  ASSERT_TRUE(a_->send(b_->name(), "room", text("closed")).ok());
  Down down = must_receive_down(watcher, ref);
  EXPECT_EQ(down.name(), "room");
  EXPECT_EQ(down.node(), b_->name());
  EXPECT_EQ(down.pid, seen_from_a(room));
  EXPECT_EQ(down.reason, ExitReason::error("closed"));
}

TEST_F(MonitorNameAcrossNodesTest, ANameNotRegisteredThereIsNoproc) {
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor("nobody", b_->name());
  Down down = must_receive_down(watcher, ref);
  EXPECT_EQ(down.name(), "nobody");
  EXPECT_EQ(down.node(), b_->name());
  EXPECT_FALSE(down.pid.valid());
  EXPECT_EQ(down.reason, ExitReason::noproc());
  EXPECT_FALSE(watcher.context().demonitor(ref));
}

// A demonitor finds the monitor's target by its ref on the far node, even
// after the name went to another process: that process was never watched,
// and the first one is no longer.
TEST_F(MonitorNameAcrossNodesTest, DemonitorEndsItThereEvenIfTheNameMoved) {
  Pid first = registered_on_b("room");
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor("room", b_->name());
  ASSERT_TRUE(eventually(b_->runtime(), [&] {
    return b_->runtime().process_info(first)->monitored_by.size() == 1;
  })) << "the monitor never reached b";
  ASSERT_TRUE(b_->runtime().unregister("room").ok());
  Pid second = registered_on_b("room");
  EXPECT_TRUE(watcher.context().demonitor(ref));
  ASSERT_TRUE(eventually(b_->runtime(), [&] {
    return b_->runtime().process_info(first)->monitored_by.empty();
  })) << "the demonitor did not reach the process the monitor found";
  EXPECT_TRUE(b_->runtime().process_info(second)->monitored_by.empty());
  ASSERT_TRUE(b_->runtime().send(first, text("bye")).ok());
  Ref sync = watcher.context().monitor(seen_from_a(first));
  must_receive_down(watcher, sync);
  EXPECT_TRUE(nothing_of_type<Down>(watcher)) << "a Down for the demonitored name";
}

TEST_F(MonitorNameAcrossNodesTest, ALostConnectionIsNoconnectionForTheName) {
  Pid room = registered_on_b("room");
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor("room", b_->name());
  ASSERT_TRUE(eventually(
      b_->runtime(), [&] { return b_->runtime().process_info(room)->monitored_by.size() == 1; }));
  a_->disconnect(b_->name());
  Down down = must_receive_down(watcher, ref);
  EXPECT_EQ(down.name(), "room");
  EXPECT_EQ(down.node(), b_->name());
  EXPECT_EQ(down.reason, ExitReason::noconnection());
  // b forgot the monitor too: the watched process keeps no watcher from a.
  EXPECT_TRUE(eventually(b_->runtime(),
                         [&] { return b_->runtime().process_info(room)->monitored_by.empty(); }));
}

TEST_F(MonitorNameAcrossNodesTest, ANodeThatCannotBeReachedIsNoconnection) {
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor("room", "c@127.0.0.1:1");
  Down down = must_receive_down(watcher, ref);
  EXPECT_EQ(down.name(), "room");
  EXPECT_EQ(down.node(), "c@127.0.0.1:1");
  EXPECT_EQ(down.reason, ExitReason::noconnection());
  Ref bad = watcher.context().monitor("room", "not a node name");
  EXPECT_EQ(must_receive_down(watcher, bad).reason, ExitReason::noconnection());
}

// On a node, a local name monitor's Down names this node, and a monitor of
// {Name, ThisNode} is a local one.
TEST_F(MonitorNameAcrossNodesTest, ALocalNameIsNamedWithThisNode) {
  Pid here = a_->runtime().spawn(exit_on_text);
  ASSERT_TRUE(a_->runtime().register_name("here", here).ok());
  Inbox watcher(a_->runtime());
  Ref by_name = watcher.context().monitor("here");
  Ref by_name_and_node = watcher.context().monitor("here", a_->name());
  ASSERT_TRUE(a_->runtime().send(here, text("normal")).ok());
  for (Ref ref : {by_name, by_name_and_node}) {
    Down down = must_receive_down(watcher, ref);
    EXPECT_EQ(down.name(), "here");
    EXPECT_EQ(down.node(), a_->name());
    EXPECT_EQ(down.pid, here);
    EXPECT_TRUE(down.reason.is_normal());
  }
}

// A watcher that exits ends its monitor by name on the far node.
TEST_F(MonitorNameAcrossNodesTest, AWatcherThatExitsEndsItsRemoteNameMonitor) {
  Pid room = registered_on_b("room");
  std::string b_name = b_->name();
  Inbox done(a_->runtime());
  Pid to = done.pid();
  Pid watcher = a_->runtime().spawn([to, b_name](Context self) -> Task<> {
    self.monitor("room", b_name);
    self.send(to, text("monitoring"));
    co_await self.receive<Text>();
  });
  must_receive<Text>(done);
  ASSERT_TRUE(eventually(
      b_->runtime(), [&] { return b_->runtime().process_info(room)->monitored_by.size() == 1; }));
  ASSERT_TRUE(a_->runtime().send(watcher, text("end")).ok());
  EXPECT_TRUE(eventually(b_->runtime(), [&] {
    return b_->runtime().process_info(room)->monitored_by.empty();
  })) << "b still holds the monitor of a watcher that exited";
}

}  // namespace
}  // namespace plexus_test

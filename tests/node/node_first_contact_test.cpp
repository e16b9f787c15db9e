// The first contact between two nodes. What is queued for a node named only
// by its name (a send to a registered name, a spawn request) before any
// connection to it exists must go out once the connection is up; and two
// nodes that connect to each other at the same moment must both succeed.
#include <gtest/gtest.h>

#include "node_test_support.h"

namespace plexus_test {
namespace {

using plexus::SpawnReply;
using plexus_test::SpawnArgs;
using plexus_test::Text;

TEST(NodeFirstContactTest, SendToARegisteredNameOnANodeNotYetConnectedArrives) {
  auto a = start_node("a");
  auto b = start_node("b");
  Inbox in_b(b->runtime());
  ASSERT_TRUE(b->runtime().register_name("greeter", in_b.pid()).ok());
  ASSERT_TRUE(a->nodes().empty());
  EXPECT_TRUE(a->send(b->name(), "greeter", text("first contact")).ok());
  auto got = in_b.receive<Text>(kWait);
  ASSERT_TRUE(got.has_value()) << "the message sent before the connection was up was lost";
  EXPECT_EQ(got->text(), "first contact");
}

Task<> idle(Context self, SpawnArgs) {
  co_await self.receive([](Text&) {});
}

TEST(NodeFirstContactTest, SpawnOnANodeNotYetConnectedSucceeds) {
  auto a = start_node("a");
  auto b = start_node("b");
  ASSERT_TRUE(b->register_process<SpawnArgs>("idle", idle).ok());
  ASSERT_TRUE(a->nodes().empty());
  Inbox in_a(a->runtime());
  a->spawn_request(in_a.pid(), b->name(), "idle", SpawnArgs());
  SpawnReply reply = must_receive<SpawnReply>(in_a);
  EXPECT_TRUE(reply.status.ok()) << reply.status;
  EXPECT_TRUE(reply.pid.valid());
}

// Both nodes connect to each other at once: one connection wins, and both
// connect() calls see it up.
TEST(NodeFirstContactTest, SimultaneousConnectsBothSucceed) {
  for (int round = 0; round < 20; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    LogCapture logs_a;
    LogCapture logs_b;
    auto a = start_node("a", {}, &logs_a);
    auto b = start_node("b", {}, &logs_b);
    plexus::Status a_status;
    std::thread a_side([&] { a_status = a->connect(b->name()); });
    plexus::Status b_status = b->connect(a->name());
    a_side.join();
    EXPECT_TRUE(a_status.ok()) << a_status;
    ASSERT_TRUE(b_status.ok()) << b_status;
    // Exactly one connection came up, on both sides, and none went down: the
    // loser of the race was refused before either side called it up.
    Inbox in_b(b->runtime());
    ASSERT_TRUE(b->runtime().register_name("sink", in_b.pid()).ok());
    ASSERT_TRUE(a->send(b->name(), "sink", text("after the race")).ok());
    EXPECT_EQ(must_receive<Text>(in_b).text(), "after the race");
    EXPECT_EQ(logs_a.count(LogLevel::kInfo, {"node " + b->name() + " up"}), 1u) << logs_a.dump();
    EXPECT_EQ(logs_b.count(LogLevel::kInfo, {"node " + a->name() + " up"}), 1u) << logs_b.dump();
    EXPECT_EQ(logs_a.count(LogLevel::kInfo, {" down"}), 0u) << logs_a.dump();
    EXPECT_EQ(logs_b.count(LogLevel::kInfo, {" down"}), 0u) << logs_b.dump();
  }
}

}  // namespace
}  // namespace plexus_test

// The first contact between two nodes. What is queued for a node named only
// by its name (a send to a registered name, a spawn request) before any
// connection to it exists must go out once the connection is up; and two
// nodes that connect to each other at the same moment must both succeed.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmath>

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

// A seed that is not there is retried every tick; its failures are all
// counted, but logged only the 1st, 2nd, 4th, 8th... time, and its coming
// up after them says how many there were.
TEST(NodeFirstContactTest, RepeatedConnectFailuresAreLoggedWithBackoff) {
  LogCapture logs;
  // A port that refuses: bound, never listened on.
  int reserved = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(reserved, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(reserved, reinterpret_cast<sockaddr*>(&addr), &len);
  std::string seed = "absent@127.0.0.1:" + std::to_string(ntohs(addr.sin_port));
  NodeOptions options = node_options("lonely", {seed}, &logs);
  options.tick_timeout = 40ms;  // seeds retried every 10 ms
  auto node = start_node(options);
  auto failures = [&] {
    plexus::MetricsWriter w;
    node->runtime().metrics().collect(w);
    return *w.value("plexus_node_connect_failures_total");
  };
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (failures() < 40 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(5ms);
  }
  ::close(reserved);
  double failed = failures();
  ASSERT_GE(failed, 40);
  size_t logged = logs.count(LogLevel::kInfo, {"connect to " + seed + " failed"});
  // 1, 2, 4, ..., up to the largest power of two <= failed (one more may be
  // in flight).
  size_t expected = static_cast<size_t>(std::log2(failed)) + 1;
  EXPECT_GE(logged, expected - 1);
  EXPECT_LE(logged, expected + 1);
  EXPECT_GE(logs.count(LogLevel::kInfo, {"connect to " + seed, "attempts in a row"}), 1u);
  // Every record of a node's runtime names the node.
  for (const LogCapture::Line& line : logs.lines()) EXPECT_EQ(line.node, node->name()) << line.text;
}

}  // namespace
}  // namespace plexus_test

// A real node against strangers on its port: connections that never finish a
// handshake, that announce huge frames, that refuse to prove the cookie. A
// stranger costs the node little and for a bounded time, leaves nothing
// behind, learns nothing that depends on the cookie, and every line the node
// logs about it names where it came from.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "raw_peer.h"

namespace plexus_test {
namespace {

using Clock = std::chrono::steady_clock;

// Before its handshake, a connection may send only small frames, whatever the
// node's limit for its peers: a Hello is well under 4 KiB, and a stranger may
// not make the node hold more.
TEST(StrangerTest, AFrameBeforeTheHandshakeIsLimitedToAFewKiB) {
  LogCapture logs;
  NodeOptions options = node_options("target", {}, &logs);
  options.max_frame_size = size_t{64} << 20;
  auto node = start_node(options);
  auto sock = RawSocket::connect(port_of(node->name()));
  ASSERT_TRUE(sock->write(header(8192) + std::string(100, 'x')));
  EXPECT_TRUE(sock->wait_closed());
  EXPECT_TRUE(logs.wait_for(LogLevel::kWarning, {"closed during handshake", "frame of 8192 bytes",
                                                 "above the limit of 4096 before the handshake"}));
}

// The log line about a refused connection names its address: it is read
// before the socket is closed.
TEST_F(BadInputTest, ARefusalNamesTheRemoteAddress) {
  auto sock = connect_raw();
  std::string from = "127.0.0.1:" + std::to_string(sock->local_port());
  ASSERT_TRUE(sock->write("garbage!"));
  EXPECT_TRUE(sock->wait_closed());
  EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning, {"connection " + from, "closed during handshake"}))
      << logs_.dump();
}

// The handshake timeout is the connection's own timer, not the next tick.
TEST(StrangerTest, AHandshakeThatNeverStartsTimesOutOnTime) {
  LogCapture logs;
  NodeOptions options = node_options("target", {}, &logs);
  options.tick_timeout = 60s;  // ticks every 15 s: no help
  options.connect_timeout = 1000ms;
  auto node = start_node(options);
  auto sock = RawSocket::connect(port_of(node->name()));
  auto start = Clock::now();
  ASSERT_TRUE(sock->wait_closed(10s));
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start);
  EXPECT_GE(took.count(), 900);
  EXPECT_LE(took.count(), kSanitized ? 5000 : 2500) << "closed after " << took.count() << " ms";
  EXPECT_TRUE(logs.wait_for(LogLevel::kWarning, {"handshake timed out"}));
}

// What a connection buffers grows with the bytes that arrive, not with the
// length a frame announces.
TEST(StrangerTest, AnAnnouncedFrameCostsOnlyWhatArrives) {
  NodeOptions options = node_options("target");
  options.max_frame_size = size_t{64} << 20;
  auto node = start_node(options);
  size_t before = rss_mib();
  std::vector<std::unique_ptr<RawSocket>> socks;
  for (int i = 0; i < 8; ++i) {
    socks.push_back(RawSocket::connect(port_of(node->name())));
    std::string fake = "big" + std::to_string(i) + kFakeAddress;
    ASSERT_TRUE(shake_hands(*socks.back(), node->name(), fake, 7));
    ASSERT_TRUE(socks.back()->write(header(60u << 20) + std::string(1000, 'x')));
  }
  // Every connection has read what was sent.
  ASSERT_TRUE(eventually(node->runtime(), [&] {
    for (int i = 0; i < 8; ++i) {
      if (node->stats("big" + std::to_string(i) + kFakeAddress).bytes_in < 1004) return false;
    }
    return true;
  }));
  size_t after = rss_mib();
  EXPECT_LT(after, before + 32) << "8 frames of 60 MiB announced, 1,000 bytes each sent: " << before
                                << " MiB -> " << after << " MiB";
}

// The acceptor proves itself only to a node that has proved the cookie: a
// stranger's Hello gets a challenge and nothing that depends on the cookie,
// and a wrong proof gets no Welcome (nor its digest).
TEST_F(BadInputTest, AStrangerLearnsNothingThatDependsOnTheCookie) {
  std::string fake = "stranger" + std::string(kFakeAddress);
  auto sock = connect_raw();
  ASSERT_TRUE(sock->write_frame(hello(fake, 5, target_->name())));
  wire::Frame reply;
  ASSERT_EQ(sock->read_frame(&reply), RawSocket::Got::kFrame);
  ASSERT_EQ(reply.hello_reply().status(), wire::HelloReply::OK);
  wire::HelloReply bare;
  bare.set_status(reply.hello_reply().status());
  bare.set_version(reply.hello_reply().version());
  *bare.mutable_node() = reply.hello_reply().node();
  bare.set_challenge(reply.hello_reply().challenge());
  EXPECT_EQ(bare.SerializeAsString(), reply.hello_reply().SerializeAsString())
      << "the HelloReply carries more than a challenge: " << reply.DebugString();
  wire::Frame proof;
  proof.mutable_proof()->set_digest(std::string(32, 'x'));
  proof.mutable_proof()->set_challenge(std::string(kChallengeSize, 'c'));
  ASSERT_TRUE(sock->write_frame(proof));
  wire::Frame welcome;
  EXPECT_EQ(sock->read_frame(&welcome), RawSocket::Got::kClosed) << welcome.DebugString();
  EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning, {"wrong cookie"}));
  expect_still_serving();
}

// A stranger who says Hello under a new name each time, and never proves the
// cookie, leaves nothing behind (it used to leave a peer entry of about 1 KB).
TEST(StrangerTest, StrangersLeaveNoState) {
  NodeOptions options = node_options("target");
  options.connect_timeout = 500ms;  // the handshake timers of closed connections go soon
  auto node = start_node(options);
  auto hello_once = [&](int i) {
    auto sock = RawSocket::connect(port_of(node->name()));
    sock->write_frame(hello("s" + std::to_string(i) + kFakeAddress, 5, node->name()));
    wire::Frame reply;
    sock->read_frame(&reply);
  };
  for (int i = 0; i < 2000; ++i) hello_once(i);  // warm up the allocator
  ASSERT_TRUE(poll_until([&] { return node->nodes().empty(); }));
  int64_t before = heap_bytes();
  for (int i = 2000; i < 22000; ++i) hello_once(i);
  // Once their handshake timers are gone, the heap is what it was (20,000
  // peer entries would be some 20 MB).
  int64_t after = 0;
  bool settled = poll_until([&] {
    after = heap_bytes();
    return after < before + (2 << 20);
  });
  EXPECT_TRUE(settled) << "20,000 strangers left " << (after - before) / 1024 << " KiB";
}

}  // namespace
}  // namespace plexus_test

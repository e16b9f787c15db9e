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

}  // namespace
}  // namespace plexus_test

// A real node against strangers on its port: connections that never finish a
// handshake, that announce huge frames, that refuse to prove the cookie. A
// stranger costs the node little and for a bounded time, leaves nothing
// behind, learns nothing that depends on the cookie, and every line the node
// logs about it names where it came from.
#include <gtest/gtest.h>
#include <sys/resource.h>

#include <string>
#include <vector>

#include "node_process_support.h"
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
  // The only answer is a refusal with no digest: nothing that depends on
  // the cookie.
  wire::Frame welcome;
  ASSERT_EQ(sock->read_frame(&welcome), RawSocket::Got::kFrame);
  EXPECT_EQ(welcome.ByteSizeLong(), wire::Frame().ByteSizeLong() + 2) << welcome.DebugString();
  EXPECT_TRUE(welcome.has_welcome() && welcome.welcome().digest().empty()) << welcome.DebugString();
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

// One cookie holder naming 70,000 made-up nodes in the pids it sends (each
// interns an incarnation) used to fill the node table, after which no new or
// restarted node could connect. Now such entries are capped, and a real peer
// still gets in.
TEST_F(BadInputTest, PidsOfMadeUpNodesCannotFillTheNodeTable) {
  const std::string fake = "namer" + std::string(kFakeAddress);
  auto sock = connect_raw();
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  std::string batch;
  for (int i = 0; i < 70000; ++i) {
    wire::Frame frame;
    wire::Send* send = frame.mutable_send();
    send->set_to_name("nobody");
    send->set_type(1);
    if (i == 0) send->set_type_name("plexus_test.Text");
    wire::Pid* from = send->mutable_from();
    from->set_index(1);
    from->set_serial(1);
    from->set_side(wire::OTHER);
    from->mutable_node()->set_name("made" + std::to_string(i) + "@10.0.0.1:1");
    from->mutable_node()->set_creation(1);
    append_frame(frame, &batch);
    if (batch.size() > 64 * 1024) {
      ASSERT_TRUE(sock->write(batch));
      batch.clear();
    }
  }
  ASSERT_TRUE(sock->write(batch));
  // Every frame is read ...
  ASSERT_TRUE(poll_until([&] { return target_->stats(fake).frames_in >= 70000; }))
      << target_->stats(fake).frames_in << " frames read";
  // ... and a node that was never heard of connects.
  auto late = start_node(peer_options("newcomer"));
  EXPECT_TRUE(late->connect(target_->name()).ok());
  expect_still_serving();
  // What the made-up names cost is bounded too: some 16,000 peers, not 70,000.
  EXPECT_TRUE(logs_.count(LogLevel::kError, {"node table full"}) == 0) << logs_.dump();
}

// A peer that restarts again and again (a new creation each time) leaves
// only its live incarnation in the table: pids of the old ones are dead, and
// the node keeps accepting new incarnations.
TEST_F(BadInputTest, APeerRestartedManyTimesStillConnects) {
  const std::string fake = "phoenix" + std::string(kFakeAddress);
  Pid first;
  // The live incarnation stays connected: a pid of an old one is noproc only
  // while its node can be reached (noconnection otherwise, as in Erlang).
  std::unique_ptr<RawSocket> live;
  for (uint64_t creation = 1; creation <= 2000; ++creation) {
    live = connect_raw();
    ASSERT_TRUE(shake_hands(*live, target_->name(), fake, creation)) << "incarnation " << creation;
    if (creation == 1) first = fake_pid(*target_, fake, 1);
  }
  Inbox inbox(target_->runtime());
  Ref ref = inbox.context().monitor(first);
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::noproc())
      << "a pid of the first incarnation";
}

// Strangers that connect and never say Hello cannot hold the node's pending
// handshakes: past the cap, the oldest of them is closed for each new one.
TEST(StrangerTest, IdleStrangersAreClosedToMakeRoom) {
  NodeOptions options = node_options("target");
  options.max_pending_handshakes = 16;
  options.max_pending_handshakes_per_host = 8;
  auto node = start_node(options);
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 100; ++i) idle.push_back(RawSocket::connect(port_of(node->name())));
  // A peer that says Hello gets in, however many strangers wait.
  auto peer = start_node(node_options("peer"));
  ASSERT_TRUE(peer->connect(node->name()).ok());
  std::vector<bool> closed(idle.size());
  size_t open = idle.size();
  bool made_room = poll_until([&] {
    for (size_t i = 0; i < idle.size(); ++i) {
      if (!closed[i] && idle[i]->wait_closed(0ms)) {
        closed[i] = true;
        --open;
      }
    }
    return open <= 8;
  });
  EXPECT_TRUE(made_room) << open << " idle strangers are still connected; the cap is 8 a host";
}

// The report's scenario: a daemon with 1,024 descriptors, a stranger that
// keeps 1,100 idle connections open to it, and a peer that connects again
// and again. Every connect gets in, and the daemon never runs out of
// descriptors (no accept fails).
TEST(StrangerTest, AFullPoolOfStrangersDoesNotShutPeersOut) {
  if (kNodeBinary == nullptr) GTEST_SKIP() << "built without examples/plexus-node";
  rlimit limit{};
  getrlimit(RLIMIT_NOFILE, &limit);
  limit.rlim_cur = std::min<rlim_t>(limit.rlim_max, 4096);
  setrlimit(RLIMIT_NOFILE, &limit);
  if (limit.rlim_cur < 1300) GTEST_SKIP() << "cannot open 1,100 sockets here";
  auto daemon = Daemon::start(Daemon::Options{.name = "d@127.0.0.1:0", .max_open_files = 1024});
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 1100; ++i) idle.push_back(RawSocket::connect(port_of(daemon->name())));
  int connected = 0;
  for (int round = 0; round < 16; ++round) {
    auto peer = start_node(node_options("p" + std::to_string(round)));
    if (peer->connect(daemon->name()).ok()) ++connected;
    // Keep the pool full between rounds.
    for (auto& sock : idle) {
      if (sock->wait_closed(0ms)) sock = RawSocket::connect(port_of(daemon->name()));
    }
  }
  EXPECT_EQ(connected, 16);
  EXPECT_EQ(daemon->log().find("accept failed"), std::string::npos) << daemon->log();
}

// When accepting does fail (out of descriptors), the node backs off, and says
// so once per step of the backoff, not ten times a second.
TEST(StrangerTest, AcceptFailuresBackOff) {
  if (kNodeBinary == nullptr) GTEST_SKIP() << "built without examples/plexus-node";
  auto daemon =
      Daemon::start(Daemon::Options{.name = "d@127.0.0.1:0",
                                    .extra_args = {"--max-pending-handshakes", "1000",
                                                   "--max-pending-handshakes-per-host", "1000"},
                                    .max_open_files = 64,
                                    .runs_out_of_descriptors = true});
  std::vector<std::unique_ptr<RawSocket>> idle;
  for (int i = 0; i < 100; ++i) idle.push_back(RawSocket::connect(port_of(daemon->name())));
  ASSERT_TRUE(poll_until([&] { return daemon->log().find("accept failed") != std::string::npos; }));
  // Watch a few seconds: the backoff goes 100, 200, ..., 2000 ms.
  auto until = std::chrono::steady_clock::now() + 4s;
  while (std::chrono::steady_clock::now() < until) std::this_thread::sleep_for(100ms);
  size_t lines = 0;
  for (size_t at = daemon->log().find("accept failed"); at != std::string::npos;
       at = daemon->log().find("accept failed", at + 1)) {
    ++lines;
  }
  EXPECT_LE(lines, 6u) << daemon->log();
  EXPECT_NE(daemon->log().find("trying again in 2000 ms"), std::string::npos) << daemon->log();
}

}  // namespace
}  // namespace plexus_test

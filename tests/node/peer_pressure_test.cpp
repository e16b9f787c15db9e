// A real node against peers that strain it without breaking the protocol:
// connections made and dropped by the thousand, peers that fall silent, and
// peers that never read. The node drops or holds what it must, disconnects
// the peer in bounded time, and keeps serving everybody else.
#include <gtest/gtest.h>

#include <string>

#include "node_control.pb.h"
#include "node_process_support.h"
#include "raw_peer.h"

namespace plexus_test {
namespace {

// ---------------------------------------------------------------- churn

TEST_F(BadInputTest, TenThousandConnectDisconnectCyclesLeakNothing) {
  const size_t fds_before = open_fds();
  const std::string fake = "churn" + std::string(kFakeAddress);
  const std::string full_hello = bytes_of(hello(fake, 5, target_->name()));
  const std::string bad_version = bytes_of(hello(fake, 5, target_->name(), 99));
  // About 1 s in a release build; the sanitizers make every cycle several
  // times slower on both ends (ASan: 10,000 cycles took 3 to 7 s), so they run
  // fewer.
  constexpr int kCycles = kSanitized ? 3'000 : 10'000;
  // Every kBatch connections, one waits for the node's answer: the node has
  // then taken every earlier connection off its accept queue, which so never
  // overflows (an overflowing queue makes connect() retry after a second).
  constexpr int kBatch = 200;
  for (int i = 0; i < kCycles; ++i) {
    auto sock = connect_raw();
    const bool sync = i % kBatch == kBatch - 1;
    switch (sync ? 0 : i % 4) {
      case 0:  // connect, close
        break;
      case 1:  // half a Hello
        sock->write(std::string_view(full_hello).substr(0, full_hello.size() / 2));
        break;
      case 2:  // a header only
        sock->write(std::string_view(full_hello).substr(0, 4));
        break;
      case 3:  // a Hello less its last byte
        sock->write(std::string_view(full_hello).substr(0, full_hello.size() - 1));
        break;
    }
    if (sync) {
      ASSERT_TRUE(sock->write(bad_version));
      wire::Frame reply;
      ASSERT_EQ(sock->read_frame(&reply), RawSocket::Got::kFrame) << "cycle " << i;
      ASSERT_EQ(reply.hello_reply().status(), wire::HelloReply::BAD_VERSION);
    }
    // Mostly resets (no TIME_WAIT left on the test's side), some orderly.
    if (i % 8 == 0) {
      sock->close();
    } else {
      sock->abort();
    }
  }
  // Every connection was seen and closed, and its descriptor released.
  EXPECT_TRUE(poll_until([&] {
    return logs_.count(LogLevel::kWarning, {"closed during handshake"}) >= size_t{kCycles};
  })) << logs_.count(LogLevel::kWarning, {"closed during handshake"})
      << " of " << kCycles;
  size_t fds_after = 0;
  EXPECT_TRUE(poll_until([&] {
    fds_after = open_fds();
    return fds_after <= fds_before + 2;
  })) << fds_before
      << " descriptors before, " << fds_after << " after";
  EXPECT_EQ(logs_.count(LogLevel::kWarning, {"accept failed"}), 0u);
  expect_still_serving();
}

// ---------------------------------------------------------------- liveness

class SilentPeerTest : public BadInputTest {
 protected:
  NodeOptions target_options() override {
    NodeOptions options = BadInputTest::target_options();
    options.tick_timeout = 500ms;
    return options;
  }
};

TEST_F(SilentPeerTest, ASilentPeerIsDownAfterTheTickTimeout) {
  const std::string fake = "silent" + std::string(kFakeAddress);
  auto sock = connect_raw();
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  auto up_at = Clock::now();
  Inbox watcher(target_->runtime());
  Ref ref = watcher.context().monitor(fake_pid(*target_, fake, 5));
  // From here on the peer sends nothing and reads nothing.
  ASSERT_TRUE(logs_.wait_for(LogLevel::kInfo, {"node " + fake + " down", "tick timeout"},
                             options_.tick_timeout + kWait));
  auto elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - up_at);
  EXPECT_GE(elapsed, options_.tick_timeout - 50ms);
  EXPECT_LE(elapsed, options_.tick_timeout + 1s);
  EXPECT_EQ(must_receive_down(watcher, ref).reason, ExitReason::noconnection());
  EXPECT_TRUE(sock->wait_closed());
  expect_still_serving();
}

// ---------------------------------------------------------------- back pressure

class StalledPeerTest : public BadInputTest {
 protected:
  static constexpr size_t kSendBuffer = 64 * 1024;
  static constexpr int kReceiveBuffer = 64 * 1024;

  NodeOptions target_options() override {
    NodeOptions options = BadInputTest::target_options();
    options.tick_timeout = 1000ms;
    options.max_send_buffer = kSendBuffer;
    return options;
  }

  // What the kernel may hold of a connection's unread bytes at most: the
  // node's send buffer (tcp_wmem's maximum), the test's receive buffer, and
  // slack for the frames in the node's hands.
  static size_t kernel_and_node_buffers() {
    size_t wmem_max = size_t{4} << 20;
    std::ifstream in("/proc/sys/net/ipv4/tcp_wmem");
    size_t lo = 0, def = 0, max = 0;
    if (in >> lo >> def >> max) wmem_max = max;
    return wmem_max + 4 * kReceiveBuffer + 4 * kSendBuffer + (size_t{2} << 20);
  }
};

struct SenderReport {
  uint64_t bytes = 0;
  std::chrono::milliseconds longest_send{0};  // one send call
  std::chrono::milliseconds longest_gap{0};   // between two rounds of sends
  ExitReason reason;
};

TEST_F(StalledPeerTest, AProcessSendingToAPeerThatNeverReadsIsHeldThenReleased) {
  const std::string fake = "stalled" + std::string(kFakeAddress);
  auto sock = connect_raw(kReceiveBuffer);
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  // The peer keeps ticking, so only the send buffer can be its undoing.
  std::atomic<bool> stop{false};
  std::thread ticker([&] {
    wire::Frame tick;
    tick.mutable_tick();
    std::string bytes = bytes_of(tick);
    while (!stop.load() && sock->write(bytes)) std::this_thread::sleep_for(100ms);
  });
  Pid remote = fake_pid(*target_, fake, 5);
  Inbox watcher(target_->runtime());
  Ref ref = watcher.context().monitor(remote);
  Inbox trapper(target_->runtime());
  trapper.context().trap_exit(true);
  ASSERT_TRUE(trapper.context().link(remote).ok());

  Inbox report(target_->runtime());
  auto sent = std::make_shared<std::atomic<uint64_t>>(0);
  target_->runtime().spawn([remote, to = report.pid(), sent](Context self) -> Task<> {
    Ref mine = self.monitor(remote);
    Text payload = text(std::string(1024, 'x'));
    SenderReport r;
    for (;;) {
      for (int i = 0; i < 16; ++i) {
        auto start = Clock::now();
        (void)self.send(remote, payload);
        r.longest_send =
            std::max(r.longest_send,
                     std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start));
        sent->fetch_add(payload.ByteSizeLong());
      }
      std::optional<Down> down;
      auto round_end = Clock::now();
      co_await self.receive(match([mine](const Down& d) { return d.ref == mine; },
                                  [&](Down& d) { down = std::move(d); }),
                            after(0ms, [] {}));
      r.longest_gap =
          std::max(r.longest_gap,
                   std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - round_end));
      if (down) {
        r.bytes = sent->load();
        r.reason = down->reason;
        (void)self.send(to, std::move(r));
        co_return;
      }
    }
  });

  ASSERT_TRUE(logs_.wait_for(LogLevel::kWarning, {"disconnecting " + fake, "send buffer"}));
  const uint64_t at_disconnect = sent->load();
  EXPECT_TRUE(logs_.wait_for(LogLevel::kInfo, {"node " + fake + " down", "send buffer"}));
  EXPECT_EQ(must_receive_down(watcher, ref).reason, ExitReason::noconnection());
  Exit e = must_receive<Exit>(trapper);
  EXPECT_EQ(e.from, remote);
  EXPECT_EQ(e.reason, ExitReason::noconnection());
  SenderReport r = must_receive<SenderReport>(report);
  EXPECT_EQ(r.reason, ExitReason::noconnection());

  // The sender was held while the buffer was full, for about tick_timeout,
  // then released by the disconnect: suspended between its rounds, never
  // inside a send (its thread went on with other processes).
  EXPECT_GE(r.longest_gap, options_.tick_timeout - 50ms);
  EXPECT_LE(r.longest_gap, options_.tick_timeout + 1500ms);
  EXPECT_LT(r.longest_send, 100ms) << "a send blocked its scheduler thread";
  // What it got to send is what the buffers hold, not what it could produce
  // in that time (about a gigabyte a second).
  EXPECT_LT(at_disconnect, kernel_and_node_buffers()) << "the node kept queueing for the peer";
  EXPECT_LT(r.bytes, kernel_and_node_buffers() + 2 * kSendBuffer);
  stop = true;
  ticker.join();
  EXPECT_TRUE(sock->wait_closed());
  expect_still_serving();
}

// Sends 16 KiB rounds to `remote` and polls its mailbox between rounds, as a
// busy process does, counting what it sent, until `stop`.
Task<> flood_sender(Context self, Pid remote, std::shared_ptr<std::atomic<uint64_t>> sent,
                    std::shared_ptr<std::atomic<bool>> stop) {
  Text payload = text(std::string(1024, 'x'));
  while (!stop->load()) {
    for (int i = 0; i < 16; ++i) {
      (void)self.send(remote, payload);
      sent->fetch_add(payload.ByteSizeLong());
    }
    co_await self.receive_any(0ms);
  }
}

// A round trip to the node's echo process, in ms.
int64_t echo_ms(Node& node, Inbox& inbox) {
  auto start = Clock::now();
  Counter c;
  c.set_seq(1);
  node.to_proto(inbox.pid(), c.mutable_reply_to());
  (void)node.runtime().send("echo", c);
  if (!inbox.receive<Counter>(kWait)) return -1;
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - start).count();
}

// A peer that drains nothing stays up for ten seconds here: long enough to
// watch what the node does meanwhile.
class BusyPeerTest : public StalledPeerTest {
 protected:
  NodeOptions target_options() override {
    NodeOptions options = StalledPeerTest::target_options();
    options.tick_timeout = 10s;
    return options;
  }
};

// A process that sends to a peer whose buffer is full is suspended; its
// scheduler thread goes on with others. With as many such senders as there
// are schedulers (two), the node still answers at once, though the peer
// drains nothing until its tick timeout.
TEST_F(BusyPeerTest, SendersToAFullPeerDoNotStopTheirSchedulers) {
  const std::string fake = "stalled" + std::string(kFakeAddress);
  auto sock = connect_raw(kReceiveBuffer);
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  std::atomic<bool> stop_ticks{false};
  std::thread ticker([&] {
    wire::Frame tick;
    tick.mutable_tick();
    std::string bytes = bytes_of(tick);
    while (!stop_ticks.load() && sock->write(bytes)) std::this_thread::sleep_for(100ms);
  });
  Pid remote = fake_pid(*target_, fake, 5);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  std::vector<std::shared_ptr<std::atomic<uint64_t>>> sent;
  for (int i = 0; i < 2; ++i) {
    sent.push_back(std::make_shared<std::atomic<uint64_t>>(0));
    target_->runtime().spawn(flood_sender, remote, sent.back(), stop);
  }
  // Both senders fill the buffers and are held...
  ASSERT_TRUE(poll_until([&] { return sent[0]->load() + sent[1]->load() > 4 * kSendBuffer; }));
  ASSERT_TRUE(poll_until([&] {
    uint64_t before = sent[0]->load() + sent[1]->load();
    std::this_thread::sleep_for(50ms);
    return sent[0]->load() + sent[1]->load() == before;
  }));
  // ...and every other process runs: the echo answers at once, again and again.
  Inbox inbox(target_->runtime());
  int64_t worst = 0;
  for (int i = 0; i < 10; ++i) worst = std::max(worst, echo_ms(*target_, inbox));
  EXPECT_GE(worst, 0) << "the echo process did not answer";
  EXPECT_LT(worst, 200) << "a round trip to a local process took " << worst << " ms";
  EXPECT_FALSE(logs_.count(LogLevel::kWarning, {"disconnecting " + fake}) > 0)
      << "measured after the disconnect: lengthen tick_timeout";
  stop->store(true);
  stop_ticks = true;
  ticker.join();
}

// A sender suspended on a full peer still answers to exit signals at once.
TEST_F(BusyPeerTest, ASuspendedSenderCanBeKilled) {
  const std::string fake = "stalled" + std::string(kFakeAddress);
  auto sock = connect_raw(kReceiveBuffer);
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  auto stop = std::make_shared<std::atomic<bool>>(false);
  auto sent = std::make_shared<std::atomic<uint64_t>>(0);
  Pid sender = target_->runtime().spawn(flood_sender, fake_pid(*target_, fake, 5), sent, stop);
  ASSERT_TRUE(poll_until([&] {
    uint64_t before = sent->load();
    std::this_thread::sleep_for(50ms);
    return before > 0 && sent->load() == before;
  })) << "the sender was never held";
  Inbox inbox(target_->runtime());
  Ref ref = inbox.context().monitor(sender);
  auto start = Clock::now();
  target_->runtime().exit(sender, ExitReason::kill());
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::killed());
  EXPECT_LT(Clock::now() - start, 1s) << "the kill waited for the peer";
}

// The same with a real peer frozen with SIGSTOP: its sockets stay open and
// take nothing; the node's schedulers stay free.
TEST(FrozenPeerTest, SendersToAFrozenPeerDoNotStopTheirSchedulers) {
  if (kNodeBinary == nullptr) GTEST_SKIP() << "built without examples/plexus-node";
  LogCapture logs;
  NodeOptions options = node_options("target", {}, &logs);
  options.tick_timeout = 10s;
  options.max_send_buffer = 64 * 1024;
  auto node = start_node(options);
  Pid echo_pid = node->runtime().spawn(echo);
  ASSERT_TRUE(node->runtime().register_name("echo", echo_pid).ok());
  auto daemon = Daemon::start(
      Daemon::Options{.name = "frozen@127.0.0.1:0", .seeds = {node->name()}, .tick_timeout = 10s});
  ASSERT_TRUE(wait_for_nodes(*node, {daemon->name()}));
  Inbox inbox(node->runtime());
  node->spawn_request(inbox.pid(), daemon->name(), "echo", plexus_node::EchoArgs{});
  plexus::SpawnReply reply = must_receive<plexus::SpawnReply>(inbox);
  ASSERT_TRUE(reply.status.ok()) << reply.status;
  daemon->process().signal(SIGSTOP);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  std::vector<std::shared_ptr<std::atomic<uint64_t>>> sent;
  for (int i = 0; i < 2; ++i) {
    sent.push_back(std::make_shared<std::atomic<uint64_t>>(0));
    node->runtime().spawn(flood_sender, reply.pid, sent.back(), stop);
  }
  ASSERT_TRUE(poll_until([&] {
    uint64_t before = sent[0]->load() + sent[1]->load();
    std::this_thread::sleep_for(50ms);
    return before > 0 && sent[0]->load() + sent[1]->load() == before;
  })) << "the senders were never held";
  int64_t worst = 0;
  for (int i = 0; i < 10; ++i) worst = std::max(worst, echo_ms(*node, inbox));
  EXPECT_GE(worst, 0) << "the echo process did not answer";
  EXPECT_LT(worst, 200) << "a round trip to a local process took " << worst << " ms";
  stop->store(true);
  daemon->process().signal(SIGCONT);
}

// Answers the node makes on its transport thread (Downs for monitors of dead
// processes, replies to spawn requests) cannot wait for room: past the limit
// the peer is disconnected at once.
class FloodTest : public StalledPeerTest {
 protected:
  // Sends frames made by `make(i)` in large writes until the node closes or
  // `max_frames` went out; the number sent.
  static size_t flood(RawSocket& sock, const std::function<wire::Frame(uint64_t)>& make,
                      size_t max_frames) {
    size_t i = 0;
    std::string batch;
    while (i < max_frames) {
      batch.clear();
      while (batch.size() < 64 * 1024 && i < max_frames) append_frame(make(++i), &batch);
      if (!sock.write(batch)) break;
    }
    return i;
  }
};

TEST_F(FloodTest, DownsForAPeerThatNeverReadsDisconnectIt) {
  const std::string fake = "flood" + std::string(kFakeAddress);
  Inbox probe(target_->runtime());
  auto [dead, dead_ref] = probe.context().spawn_monitor([](Context) {});
  must_receive_down(probe, dead_ref);
  auto sock = connect_raw(kReceiveBuffer);
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  size_t sent = flood(
      *sock,
      [dead = dead](uint64_t i) {
        wire::Frame frame;
        wire::Signal* s = frame.mutable_signal();
        s->set_kind(wire::Signal::MONITOR);
        s->mutable_to()->set_index(dead.index);
        s->mutable_to()->set_serial(dead.serial);
        s->mutable_to()->set_side(wire::RECEIVER);
        s->mutable_from()->set_index(1);
        s->mutable_from()->set_serial(1);
        s->mutable_ref()->set_id(i);
        return frame;
      },
      4'000'000);
  EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning, {"disconnecting " + fake, "send buffer full"}))
      << "no disconnect after " << sent << " monitors of a dead process";
  EXPECT_TRUE(sock->wait_closed());
  // One line says it; not one per frame still in the read buffer.
  EXPECT_LE(logs_.count(LogLevel::kWarning, {"disconnecting " + fake}), 3u);
  expect_still_serving();
}

TEST_F(FloodTest, SpawnRepliesForAPeerThatNeverReadsDisconnectIt) {
  const std::string fake = "spawner" + std::string(kFakeAddress);
  auto sock = connect_raw(kReceiveBuffer);
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  const size_t rss_before = rss_mib();
  size_t sent = flood(
      *sock,
      [](uint64_t i) {
        wire::Frame frame;
        wire::SpawnRequest* r = frame.mutable_spawn_request();
        r->set_id(i);
        r->mutable_requester()->set_index(1);
        r->mutable_requester()->set_serial(1);
        r->set_type("no-such-type");
        return frame;
      },
      300'000);
  EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning, {"disconnecting " + fake, "send buffer full"}, 5s))
      << "no disconnect after " << sent << " spawn requests: the node queues their replies "
      << "without bound (resident memory " << rss_before << " MiB before, " << rss_mib()
      << " MiB after)";
  sock->abort();
  expect_still_serving();
}

}  // namespace
}  // namespace plexus_test

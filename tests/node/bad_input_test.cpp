// A real node against peers that misbehave on the wire: garbage, frames that
// do not parse or are too large, truncated frames, bad handshakes, frames out
// of order, silent peers and peers that never read. The test talks to the node
// over raw TCP sockets and drives the handshake with the node's own Handshake
// class. In every case the node closes the offending connection, says why in
// its log, and keeps serving everybody else.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "frame_codec.h"
#include "handshake.h"
#include "node_test_support.h"

namespace plexus_test {
namespace {

namespace wire = plexus::wire;
using plexus::match;
using plexus::PidProto;
using plexus::UnknownMessage;
using plexus::detail::append_frame;
using plexus::detail::Handshake;
using plexus::detail::handshake_digest;
using plexus::detail::kChallengeSize;
using plexus::detail::kProtocolVersion;
using plexus_test::Counter;
using plexus_test::Text;
using Clock = std::chrono::steady_clock;

constexpr size_t kMaxFrameSize = 4096;
// A port nothing listens on, for the names of fake peers: should the node try
// to reach one of them again, it is refused at once.
constexpr char kFakeAddress[] = "@127.0.0.1:1";

uint16_t port_of(const std::string& node_name) {
  return static_cast<uint16_t>(std::stoi(node_name.substr(node_name.rfind(':') + 1)));
}

std::string bytes_of(const wire::Frame& frame) {
  std::string out;
  append_frame(frame, &out);
  return out;
}

// A 4-byte big-endian length prefix.
std::string header(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

// One end of a TCP connection, with blocking writes and reads bounded by a
// deadline.
class RawSocket {
 public:
  enum class Got { kFrame, kClosed, kTimeout, kBad };

  explicit RawSocket(int fd) : fd_(fd) {
    // A write never blocks a test for good, whatever the node does.
    timeval tv{};
    tv.tv_sec = std::chrono::duration_cast<std::chrono::seconds>(kWait).count();
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  }
  RawSocket(const RawSocket&) = delete;
  RawSocket& operator=(const RawSocket&) = delete;
  ~RawSocket() { close(); }

  // Connects to 127.0.0.1:`port`. A `receive_buffer` keeps what the kernel
  // buffers for this end small (set before connecting, so the window is too).
  static std::unique_ptr<RawSocket> connect(uint16_t port, int receive_buffer = 0) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
    if (receive_buffer > 0) {
      ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &receive_buffer, sizeof receive_buffer);
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      int e = errno;
      ::close(fd);
      throw std::runtime_error(std::string("connect: ") + std::strerror(e));
    }
    return std::make_unique<RawSocket>(fd);
  }

  // False once the peer has closed (or the write timed out).
  bool write(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        return false;
      }
      bytes.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }
  bool write_frame(const wire::Frame& frame) { return write(bytes_of(frame)); }

  Got read_frame(wire::Frame* frame, std::chrono::milliseconds timeout = kWait) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      if (buf_.size() >= 4) {
        const auto* p = reinterpret_cast<const uint8_t*>(buf_.data());
        size_t n = size_t{p[0]} << 24 | size_t{p[1]} << 16 | size_t{p[2]} << 8 | size_t{p[3]};
        if (n > (size_t{64} << 20)) return Got::kBad;
        if (buf_.size() >= 4 + n) {
          bool ok = frame->ParseFromArray(buf_.data() + 4, static_cast<int>(n));
          buf_.erase(0, 4 + n);
          return ok ? Got::kFrame : Got::kBad;
        }
      }
      Got got = fill(deadline);
      if (got != Got::kFrame) return got;
    }
  }

  // Reads and drops everything until the peer closes; false on timeout.
  bool wait_closed(std::chrono::milliseconds timeout = kWait) {
    auto deadline = Clock::now() + timeout;
    for (;;) {
      buf_.clear();
      Got got = fill(deadline);
      if (got == Got::kClosed) return true;
      if (got == Got::kTimeout) return false;
    }
  }

  // Sends a FIN: the peer reads end of stream, and can still answer.
  void shutdown_write() { ::shutdown(fd_, SHUT_WR); }
  // Closes with a reset instead of a FIN (and leaves no TIME_WAIT behind).
  void abort() {
    if (fd_ < 0) return;
    linger l{1, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    close();
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  // Appends what arrives (kFrame), or says why nothing will.
  Got fill(Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      if (left.count() <= 0) return Got::kTimeout;
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, static_cast<int>(left.count()) + 1);
      if (r < 0 && errno != EINTR) return Got::kClosed;
      if (r <= 0) continue;
      char chunk[64 * 1024];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n > 0) {
        buf_.append(chunk, static_cast<size_t>(n));
        return Got::kFrame;
      }
      if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      return Got::kClosed;  // end of stream, or reset
    }
  }

  int fd_;
  std::string buf_;
};

// A listening socket on 127.0.0.1, to play a node that the node under test
// connects to.
class RawListener {
 public:
  RawListener() {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = 0;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (fd_ < 0 || ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::listen(fd_, 16) != 0 ||
        ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      throw std::runtime_error(std::string("listen: ") + std::strerror(errno));
    }
    port_ = ntohs(addr.sin_port);
  }
  RawListener(const RawListener&) = delete;
  RawListener& operator=(const RawListener&) = delete;
  ~RawListener() { ::close(fd_); }

  uint16_t port() const { return port_; }

  // The next connection, or null if none comes within `timeout`.
  std::unique_ptr<RawSocket> accept(std::chrono::milliseconds timeout = kWait) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) != 1) return nullptr;
    int fd = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    return fd < 0 ? nullptr : std::make_unique<RawSocket>(fd);
  }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

wire::Frame hello(const std::string& from, uint64_t creation, const std::string& to,
                  uint32_t version = kProtocolVersion) {
  wire::Frame frame;
  wire::Hello* h = frame.mutable_hello();
  h->set_version(version);
  h->mutable_node()->set_name(from);
  h->mutable_node()->set_creation(creation);
  h->set_challenge(std::string(kChallengeSize, 'c'));
  h->set_expected_name(to);
  return frame;
}

// Completes a handshake with `target` as node `name` over `sock`, with the
// real cookie.
::testing::AssertionResult shake_hands(RawSocket& sock, const std::string& target,
                                       const std::string& name, uint64_t creation) {
  Handshake hs = Handshake::connect(Handshake::Identity{name, creation, kCookie}, target);
  std::string out;
  hs.start(&out);
  if (!sock.write(out)) return ::testing::AssertionFailure() << "cannot write the Hello";
  while (hs.state() == Handshake::State::kInProgress) {
    wire::Frame frame;
    RawSocket::Got got = sock.read_frame(&frame);
    if (got != RawSocket::Got::kFrame) {
      return ::testing::AssertionFailure() << "no handshake frame from " << target;
    }
    out.clear();
    hs.on_frame(frame, &out);
    if (!out.empty() && !sock.write(out)) {
      return ::testing::AssertionFailure() << "cannot write to " << target;
    }
  }
  if (hs.state() != Handshake::State::kDone) {
    return ::testing::AssertionFailure() << "handshake failed: " << hs.error();
  }
  return ::testing::AssertionSuccess();
}

// A pid of process (index, serial) on the fake node `name` (incarnation
// `creation`), as the node under test names it.
Pid fake_pid(Node& node, const std::string& name, uint64_t creation, uint32_t index = 1,
             uint32_t serial = 1) {
  PidProto proto;
  proto.set_node(name);
  proto.set_creation(creation);
  proto.set_index(index);
  proto.set_serial(serial);
  auto pid = node.from_proto(proto);
  if (!pid.ok()) throw std::runtime_error("from_proto: " + pid.status().to_string());
  return *pid;
}

// This process's resident memory, in MiB.
size_t rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) / 1024;
  }
  return 0;
}

size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// Waits until `pred` holds, polling; false at the deadline.
bool poll_until(const std::function<bool()>& pred, std::chrono::milliseconds timeout = kWait) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Answers every Counter with seq + 1 to its reply_to.
Task<> echo(Context self) {
  for (;;) {
    Counter c = co_await self.receive<Counter>();
    auto to = Node::of(self)->from_proto(c.reply_to());
    c.set_seq(c.seq() + 1);
    if (to.ok()) (void)self.send(*to, c);
  }
}

class BadInputTest : public ::testing::Test {
 protected:
  virtual NodeOptions target_options() {
    NodeOptions options = node_options("target", {}, &logs_);
    options.max_frame_size = kMaxFrameSize;
    return options;
  }

  // The well-behaved nodes tick as often as the target expects.
  NodeOptions peer_options(const std::string& base) {
    NodeOptions options = node_options(base);
    options.tick_timeout = options_.tick_timeout;
    return options;
  }

  void SetUp() override {
    options_ = target_options();
    target_ = start_node(options_);
    Pid echo_pid = target_->runtime().spawn(echo);
    ASSERT_TRUE(target_->runtime().register_name("echo", echo_pid).ok());
    // A node connected before the bad input, with a process that monitors
    // one on the target: the connection must survive whatever happens.
    friend_ = start_node(peer_options("friend"));
    ASSERT_TRUE(friend_->connect(target_->name()).ok());
    friend_inbox_ = std::make_unique<Inbox>(friend_->runtime());
    PidProto proto;
    target_->to_proto(echo_pid, &proto);
    friend_monitor_ = friend_inbox_->context().monitor(*friend_->from_proto(proto));
    ASSERT_NO_FATAL_FAILURE(round_trip(*friend_, *friend_inbox_, 1));
  }

  void TearDown() override {
    if (HasFailure()) std::cerr << "--- target log:\n" << logs_.dump();
  }

  // A Counter to the target's echo and back.
  void round_trip(Node& from, Inbox& inbox, int64_t seq) {
    Counter c;
    c.set_seq(seq);
    from.to_proto(inbox.pid(), c.mutable_reply_to());
    ASSERT_TRUE(from.send(target_->name(), "echo", c).ok());
    auto back = inbox.receive<Counter>(kWait);
    ASSERT_TRUE(back.has_value()) << "no answer from the target's echo process";
    EXPECT_EQ(back->seq(), seq + 1);
  }

  // The friend's connection is the one it had, and still carries messages;
  // a node that was not there before connects and is served.
  void expect_still_serving() {
    auto nodes = target_->nodes();
    EXPECT_NE(std::find(nodes.begin(), nodes.end(), friend_->name()), nodes.end())
        << "the connection to a well-behaved node was lost";
    ASSERT_NO_FATAL_FAILURE(round_trip(*friend_, *friend_inbox_, 10));
    EXPECT_FALSE(friend_inbox_->receive<Down>(0ms).has_value())
        << "the friend's monitor on the target fired";
    auto late = start_node(peer_options("late"));
    auto status = late->connect(target_->name());
    ASSERT_TRUE(status.ok()) << status;
    Inbox late_inbox(late->runtime());
    ASSERT_NO_FATAL_FAILURE(round_trip(*late, late_inbox, 20));
  }

  std::unique_ptr<RawSocket> connect_raw(int receive_buffer = 0) {
    return RawSocket::connect(port_of(target_->name()), receive_buffer);
  }

  // Sends `bytes` on a new connection and expects the node to answer with a
  // HelloReply of `status` (if given), close the connection and log `cause`.
  void expect_refused(const std::string& bytes, std::optional<wire::HelloReply::Status> status,
                      const std::string& cause) {
    auto sock = connect_raw();
    ASSERT_TRUE(sock->write(bytes));
    if (status) {
      wire::Frame reply;
      ASSERT_EQ(sock->read_frame(&reply), RawSocket::Got::kFrame) << "no HelloReply";
      ASSERT_TRUE(reply.has_hello_reply()) << reply.DebugString();
      EXPECT_EQ(reply.hello_reply().status(), *status) << reply.DebugString();
      EXPECT_EQ(reply.hello_reply().digest(), "") << "a refusal proves nothing";
    }
    EXPECT_TRUE(sock->wait_closed()) << "the node did not close the connection";
    EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning, {"closed during handshake", cause}))
        << "no log line with: " << cause;
    expect_still_serving();
  }

  // A fake node listening on a port of its own; `answer` plays its side of
  // the handshake on the connection the target makes, after the Hello.
  // Returns the status of target.connect(fake name).
  plexus::Status connect_to_fake(
      const std::string& base,
      const std::function<void(RawSocket&, const wire::Hello&, const std::string& name)>& answer) {
    RawListener listener;
    std::string name = base + "@127.0.0.1:" + std::to_string(listener.port());
    std::string failure;
    std::thread fake([&] {
      auto sock = listener.accept();
      if (!sock) {
        failure = "the target never connected";
        return;
      }
      wire::Frame frame;
      if (sock->read_frame(&frame) != RawSocket::Got::kFrame || !frame.has_hello()) {
        failure = "no Hello from the target";
        return;
      }
      answer(*sock, frame.hello(), name);
      if (!sock->wait_closed()) failure = "the target did not close the connection";
    });
    plexus::Status status = target_->connect(name);
    fake.join();
    EXPECT_EQ(failure, "");
    return status;
  }

  LogCapture logs_;  // outlives the nodes that log to it
  NodeOptions options_;
  std::unique_ptr<Node> target_;
  std::unique_ptr<Node> friend_;
  std::unique_ptr<Inbox> friend_inbox_;
  Ref friend_monitor_;
};

// ---------------------------------------------------------------- before the handshake

TEST_F(BadInputTest, GarbageInsteadOfAFrame) {
  // Text read as a length prefix announces ~1.7 GB.
  expect_refused("hello there, this is not a frame\r\n", std::nullopt, "above the limit of 4096");
}

TEST_F(BadInputTest, AFrameThatDoesNotParse) {
  // Field 1 with wire type 7, which does not exist.
  std::string junk = "\x0f\x0f\x0f\x0f\x0f\x0f\x0f\x0f";
  expect_refused(header(static_cast<uint32_t>(junk.size())) + junk, std::nullopt,
                 "a frame does not parse");
}

TEST_F(BadInputTest, AFrameAboveTheSizeLimitIsRefusedFromItsHeader) {
  // The node must close on the header alone: it neither waits for the 2 GiB
  // announced nor makes room for them.
  auto sock = connect_raw();
  ASSERT_TRUE(sock->write(header(0x7fffffff) + std::string(100, 'x')));
  EXPECT_TRUE(sock->wait_closed()) << "the node waits for the rest of an oversized frame";
  EXPECT_TRUE(logs_.wait_for(
      LogLevel::kWarning,
      {"closed during handshake", "frame of 2147483647 bytes", "above the limit of 4096"}));
  // One byte over the limit is refused too, before the body arrives.
  sock = connect_raw();
  ASSERT_TRUE(sock->write(header(kMaxFrameSize + 1)));
  EXPECT_TRUE(sock->wait_closed());
  EXPECT_TRUE(
      logs_.wait_for(LogLevel::kWarning, {"frame of 4097 bytes", "above the limit of 4096"}));
  expect_still_serving();
}

TEST_F(BadInputTest, AFrameOfExactlyTheLimitIsAccepted) {
  // A Hello padded (with an unknown field) to max_frame_size bytes.
  wire::Frame frame = hello("padded" + std::string(kFakeAddress), 5, target_->name());
  std::string body = frame.SerializeAsString();
  // Field 1999, length-delimited: a two-byte tag and a two-byte length.
  size_t pad = kMaxFrameSize - body.size() - 4;
  body += "\xfa\x7c";
  body += static_cast<char>(0x80 | (pad & 0x7f));
  body += static_cast<char>(pad >> 7);
  body.append(pad, 'p');
  wire::Frame check;
  ASSERT_TRUE(check.ParseFromString(body));
  ASSERT_EQ(body.size(), kMaxFrameSize);
  auto sock = connect_raw();
  ASSERT_TRUE(sock->write(header(kMaxFrameSize) + body));
  wire::Frame reply;
  ASSERT_EQ(sock->read_frame(&reply), RawSocket::Got::kFrame);
  ASSERT_TRUE(reply.has_hello_reply()) << reply.DebugString();
  EXPECT_EQ(reply.hello_reply().status(), wire::HelloReply::OK);
}

TEST_F(BadInputTest, HalfAFrameThenEndOfStream) {
  auto sock = connect_raw();
  ASSERT_TRUE(sock->write(header(100) + std::string(50, 'x')));
  sock->shutdown_write();
  EXPECT_TRUE(sock->wait_closed()) << "the node keeps a half-closed connection open";
  EXPECT_TRUE(
      logs_.wait_for(LogLevel::kWarning, {"closed during handshake", "connection closed by peer"}));
  expect_still_serving();
}

TEST_F(BadInputTest, AHelloWithAnUnknownVersionGetsBadVersion) {
  expect_refused(bytes_of(hello("fake" + std::string(kFakeAddress), 5, target_->name(), 2)),
                 wire::HelloReply::BAD_VERSION, "unknown protocol version 2");
}

TEST_F(BadInputTest, AHelloForAnotherNodeGetsWrongNode) {
  std::string other = "other" + std::string(kFakeAddress);
  expect_refused(bytes_of(hello("fake" + std::string(kFakeAddress), 5, other)),
                 wire::HelloReply::WRONG_NODE, "meant to reach " + other);
}

TEST_F(BadInputTest, AHelloClaimingTheNodesOwnName) {
  expect_refused(bytes_of(hello(target_->name(), 5, target_->name())), std::nullopt,
                 "peer claims this node's own name " + target_->name());
}

TEST_F(BadInputTest, AHelloWithAnInvalidNameCreationOrChallenge) {
  std::string fake = "fake" + std::string(kFakeAddress);
  expect_refused(bytes_of(hello("no-at-sign", 5, target_->name())), std::nullopt,
                 "invalid node name");
  expect_refused(bytes_of(hello(fake, 0, target_->name())), std::nullopt, "creation 0");
  wire::Frame short_challenge = hello(fake, 5, target_->name());
  short_challenge.mutable_hello()->set_challenge("short");
  expect_refused(bytes_of(short_challenge), std::nullopt, "bad challenge size");
}

TEST_F(BadInputTest, ADataFrameBeforeTheHandshake) {
  wire::Frame send;
  send.mutable_send()->set_to_name("echo");
  send.mutable_send()->set_type(1);
  send.mutable_send()->set_type_name("plexus_test.Text");
  expect_refused(bytes_of(send), std::nullopt, "expected a Hello frame");
}

TEST_F(BadInputTest, ADataFrameInsteadOfTheProof) {
  auto sock = connect_raw();
  ASSERT_TRUE(sock->write_frame(hello("fake" + std::string(kFakeAddress), 5, target_->name())));
  wire::Frame reply;
  ASSERT_EQ(sock->read_frame(&reply), RawSocket::Got::kFrame);
  ASSERT_EQ(reply.hello_reply().status(), wire::HelloReply::OK);
  wire::Frame tick;
  tick.mutable_tick();
  ASSERT_TRUE(sock->write_frame(tick));
  EXPECT_TRUE(sock->wait_closed());
  EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning,
                             {"closed during handshake", "fake@", "expected a Proof frame"}));
  expect_still_serving();
}

TEST_F(BadInputTest, AConnectorWithTheWrongCookieIsRefusedAtItsProof) {
  std::string fake = "fake" + std::string(kFakeAddress);
  auto sock = connect_raw();
  ASSERT_TRUE(sock->write_frame(hello(fake, 5, target_->name())));
  wire::Frame reply;
  ASSERT_EQ(sock->read_frame(&reply), RawSocket::Got::kFrame);
  ASSERT_EQ(reply.hello_reply().status(), wire::HelloReply::OK);
  wire::Frame proof;
  proof.mutable_proof()->set_digest(
      handshake_digest("wrong-cookie", "plexus-connect", reply.hello_reply().challenge(), fake));
  ASSERT_TRUE(sock->write_frame(proof));
  // No Welcome: the node closes.
  wire::Frame next;
  EXPECT_EQ(sock->read_frame(&next), RawSocket::Got::kClosed) << next.DebugString();
  EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning,
                             {"closed during handshake", "wrong cookie", fake, "proof"}));
  EXPECT_TRUE(target_->nodes().size() == 1) << "only the friend is connected";
  expect_still_serving();
}

TEST_F(BadInputTest, AnImpostorOfAConnectedNodeWithoutTheCookieDoesNotDisturbIt) {
  // Someone claims to be the friend (a new incarnation) but cannot prove the
  // cookie: the friend's connection, links and monitors stay as they are.
  auto sock = connect_raw();
  ASSERT_TRUE(sock->write_frame(hello(friend_->name(), 12345, target_->name())));
  wire::Frame reply;
  ASSERT_EQ(sock->read_frame(&reply), RawSocket::Got::kFrame);
  wire::Frame proof;
  proof.mutable_proof()->set_digest(std::string(32, 'x'));
  ASSERT_TRUE(sock->write_frame(proof));
  EXPECT_TRUE(sock->wait_closed());
  EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning, {"closed during handshake", "wrong cookie"}));
  expect_still_serving();
}

TEST_F(BadInputTest, AnAcceptorWithTheWrongCookieFailsConnect) {
  plexus::Status status = connect_to_fake(
      "fake", [](RawSocket& sock, const wire::Hello& hello, const std::string& name) {
        // The fake's own handshake, with another cookie: its digest is wrong.
        Handshake hs =
            Handshake::accept(Handshake::Identity{name, 77, "wrong-cookie"},
                              [](const std::string&, uint64_t) { return wire::HelloReply::OK; });
        wire::Frame frame;
        *frame.mutable_hello() = hello;
        std::string out;
        hs.on_frame(frame, &out);
        sock.write(out);
      });
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("wrong cookie"), std::string::npos) << status;
  EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning,
                             {"closed during handshake", "wrong cookie", "digest does not match"}));
  expect_still_serving();
}

TEST_F(BadInputTest, AnAcceptorClaimingAnotherNameFailsConnect) {
  std::string impostor = "impostor" + std::string(kFakeAddress);
  plexus::Status status =
      connect_to_fake("fake", [&](RawSocket& sock, const wire::Hello& hello, const std::string&) {
        // Knows the cookie, but is not the node that was dialed.
        wire::Frame frame;
        wire::HelloReply* reply = frame.mutable_hello_reply();
        reply->set_status(wire::HelloReply::OK);
        reply->set_version(kProtocolVersion);
        reply->mutable_node()->set_name(impostor);
        reply->mutable_node()->set_creation(9);
        reply->set_challenge(std::string(kChallengeSize, 'i'));
        reply->set_digest(handshake_digest(kCookie, "plexus-accept", hello.challenge(), impostor));
        sock.write_frame(frame);
      });
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status;
  EXPECT_NE(status.message().find("peer claims to be " + impostor), std::string::npos) << status;
  EXPECT_TRUE(logs_.wait_for(LogLevel::kWarning,
                             {"closed during handshake", "peer claims to be " + impostor}));
  EXPECT_EQ(logs_.count(LogLevel::kInfo, {"node " + impostor + " up"}), 0u);
  expect_still_serving();
}

// ---------------------------------------------------------------- after the handshake

struct BadFrame {
  const char* name;
  std::function<std::string()> bytes;
  const char* cause;  // in the log line that says the peer is down
};

void PrintTo(const BadFrame& f, std::ostream* os) { *os << f.name; }

std::string send_frame(uint32_t type, const std::string& type_name) {
  wire::Frame frame;
  frame.mutable_send()->set_to_name("echo");
  frame.mutable_send()->set_type(type);
  frame.mutable_send()->set_type_name(type_name);
  frame.mutable_send()->set_payload("x");
  return bytes_of(frame);
}

class AfterHandshakeTest : public BadInputTest, public ::testing::WithParamInterface<BadFrame> {};

TEST_P(AfterHandshakeTest, ClosesTheConnectionAndFiresItsMonitors) {
  const std::string fake = "fake" + std::string(kFakeAddress);
  auto sock = connect_raw();
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  Inbox watcher(target_->runtime());
  Ref ref = watcher.context().monitor(fake_pid(*target_, fake, 5));
  ASSERT_TRUE(sock->write(GetParam().bytes()));
  EXPECT_TRUE(sock->wait_closed()) << "the node did not close the connection";
  EXPECT_TRUE(logs_.wait_for(LogLevel::kInfo, {"node " + fake + " down", GetParam().cause}))
      << "no log line with: " << GetParam().cause;
  EXPECT_EQ(must_receive_down(watcher, ref).reason, ExitReason::noconnection());
  expect_still_serving();
}

INSTANTIATE_TEST_SUITE_P(
    BadFrames, AfterHandshakeTest,
    ::testing::Values(
        BadFrame{"UnknownTypeNumber", [] { return send_frame(5, ""); },
                 "message of unknown type number 5"},
        BadFrame{"TypeNumberZero", [] { return send_frame(0, ""); },
                 "message of unknown type number 0"},
        BadFrame{"TypeNumberOutOfOrder", [] { return send_frame(3, "plexus_test.Text"); },
                 "type number 3 out of order"},
        BadFrame{"NoBody", [] { return header(0); }, "unexpected frame (0) after the handshake"},
        BadFrame{"AHelloAgain",
                 [] { return bytes_of(hello("fake" + std::string(kFakeAddress), 5, "x")); },
                 "unexpected frame (10) after the handshake"},
        BadFrame{"DoesNotParse", [] { return header(2) + "\x0f\x0f"; }, "a frame does not parse"},
        BadFrame{"AboveTheLimit", [] { return header(1 << 30); }, "above the limit of 4096"},
        BadFrame{"SignalWithoutSender",
                 [] {
                   wire::Frame frame;
                   frame.mutable_signal()->set_kind(wire::Signal::LINK);
                   frame.mutable_signal()->mutable_to()->set_index(1);
                   frame.mutable_signal()->mutable_to()->set_serial(1);
                   frame.mutable_signal()->mutable_to()->set_side(wire::RECEIVER);
                   return bytes_of(frame);
                 },
                 "signal without its sender or ref"}),
    [](const ::testing::TestParamInfo<BadFrame>& info) { return std::string(info.param.name); });

// The half frame is followed by the end of the stream (the others need none:
// the node closes on its own).
TEST_F(BadInputTest, HalfAFrameAfterTheHandshakeThenEndOfStream) {
  const std::string fake = "half" + std::string(kFakeAddress);
  auto sock = connect_raw();
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  Inbox watcher(target_->runtime());
  watcher.context().trap_exit(true);
  Pid remote = fake_pid(*target_, fake, 5);
  ASSERT_TRUE(watcher.context().link(remote).ok());
  ASSERT_TRUE(sock->write(header(100) + std::string(10, 'x')));
  sock->shutdown_write();
  EXPECT_TRUE(sock->wait_closed());
  EXPECT_TRUE(logs_.wait_for(LogLevel::kInfo, {"node " + fake + " down", "closed by peer"}));
  Exit e = must_receive<Exit>(watcher);
  EXPECT_EQ(e.from, remote);
  EXPECT_EQ(e.reason, ExitReason::noconnection());
  expect_still_serving();
}

TEST_F(BadInputTest, ATypeTheReceiverDoesNotKnowArrivesAsUnknownMessage) {
  const std::string fake = "newer" + std::string(kFakeAddress);
  Inbox sink(target_->runtime());
  ASSERT_TRUE(target_->runtime().register_name("sink", sink.pid()).ok());
  auto sock = connect_raw();
  ASSERT_TRUE(shake_hands(*sock, target_->name(), fake, 5));
  auto send = [&](uint32_t type, const std::string& type_name, const std::string& payload) {
    wire::Frame frame;
    frame.mutable_send()->set_to_name("sink");
    frame.mutable_send()->set_type(type);
    frame.mutable_send()->set_type_name(type_name);
    frame.mutable_send()->set_payload(payload);
    return sock->write_frame(frame);
  };
  ASSERT_TRUE(send(1, "acme.v2.Widget", std::string("\x08\x2a", 2)));
  UnknownMessage first = must_receive<UnknownMessage>(sink);
  EXPECT_EQ(first.type_name, "acme.v2.Widget");
  EXPECT_EQ(first.payload, std::string("\x08\x2a", 2));
  // The number stands for the type from now on.
  ASSERT_TRUE(send(1, "", std::string("\x08\x2b", 2)));
  UnknownMessage second = must_receive<UnknownMessage>(sink);
  EXPECT_EQ(second.type_name, "acme.v2.Widget");
  EXPECT_EQ(second.payload, std::string("\x08\x2b", 2));
  // A known type on the same connection still arrives typed.
  ASSERT_TRUE(send(2, "plexus_test.Text", text("known").SerializeAsString()));
  EXPECT_EQ(must_receive<Text>(sink).text(), "known");
  auto nodes = target_->nodes();
  EXPECT_NE(std::find(nodes.begin(), nodes.end(), fake), nodes.end()) << "the peer is still up";
  expect_still_serving();
}

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
  std::chrono::milliseconds longest_send{0};
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
      co_await self.receive(match([mine](const Down& d) { return d.ref == mine; },
                                  [&](Down& d) { down = std::move(d); }),
                            after(0ms, [] {}));
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
  // then released by the disconnect.
  EXPECT_GE(r.longest_send, options_.tick_timeout - 50ms);
  EXPECT_LE(r.longest_send, options_.tick_timeout + 1500ms);
  // What it got to send is what the buffers hold, not what it could produce
  // in that time (about a gigabyte a second).
  EXPECT_LT(at_disconnect, kernel_and_node_buffers()) << "the node kept queueing for the peer";
  EXPECT_LT(r.bytes, kernel_and_node_buffers() + 2 * kSendBuffer);
  stop = true;
  ticker.join();
  EXPECT_TRUE(sock->wait_closed());
  expect_still_serving();
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

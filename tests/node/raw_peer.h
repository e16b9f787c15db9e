// A real node and strangers on its port: raw TCP sockets that speak (or
// garble) the wire protocol, a raw listener that plays a fake node, and the
// fixture of the bad-input tests (bad_input_test.cpp, peer_pressure_test.cpp).
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <malloc.h>
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

inline constexpr size_t kMaxFrameSize = 4096;
// A port nothing listens on, for the names of fake peers: should the node try
// to reach one of them again, it is refused at once.
inline constexpr char kFakeAddress[] = "@127.0.0.1:1";

inline uint16_t port_of(const std::string& node_name) {
  return static_cast<uint16_t>(std::stoi(node_name.substr(node_name.rfind(':') + 1)));
}

inline std::string bytes_of(const wire::Frame& frame) {
  std::string out;
  append_frame(frame, &out);
  return out;
}

// A 4-byte big-endian length prefix.
inline std::string header(uint32_t n) {
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

  // The port this end is bound to (what the node's log lines name).
  uint16_t local_port() const {
    sockaddr_in addr{};
    socklen_t len = sizeof addr;
    if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return 0;
    return ntohs(addr.sin_port);
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
  // Appends what arrives (kFrame), or says why nothing will. Looks at least
  // once, even with a deadline that has passed.
  Got fill(Clock::time_point deadline) {
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
      pollfd p{fd_, POLLIN, 0};
      int r = ::poll(&p, 1, left.count() > 0 ? static_cast<int>(left.count()) + 1 : 0);
      if (r < 0 && errno != EINTR) return Got::kClosed;
      if (r == 0 && left.count() <= 0) return Got::kTimeout;
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

inline wire::Frame hello(const std::string& from, uint64_t creation, const std::string& to,
                         uint32_t version = kProtocolVersion) {
  wire::Frame frame;
  wire::Hello* h = frame.mutable_hello();
  h->set_version(version);
  h->mutable_node()->set_name(from);
  h->mutable_node()->set_creation(creation);
  h->set_expected_name(to);
  return frame;
}

// Completes a handshake with `target` as node `name` over `sock`, with the
// real cookie.
inline ::testing::AssertionResult shake_hands(RawSocket& sock, const std::string& target,
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
inline Pid fake_pid(Node& node, const std::string& name, uint64_t creation, uint32_t index = 1,
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
// Bytes of heap in use, every malloc arena included.
inline int64_t heap_bytes() {
  struct mallinfo2 mi = mallinfo2();
  return static_cast<int64_t>(mi.uordblks + mi.hblkhd);
}

inline size_t rss_mib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) / 1024;
  }
  return 0;
}

inline size_t open_fds() {
  size_t n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

// Waits until `pred` holds, polling; false at the deadline.
inline bool poll_until(const std::function<bool()>& pred,
                       std::chrono::milliseconds timeout = kWait) {
  auto deadline = Clock::now() + timeout;
  while (!pred()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

// Answers every Counter with seq + 1 to its reply_to.
inline Task<> echo(Context self) {
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

}  // namespace plexus_test

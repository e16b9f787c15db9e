// A real node against peers that misbehave on the wire: garbage, frames that
// do not parse or are too large, truncated frames, bad handshakes, frames out
// of order. The test talks to the node over raw TCP sockets and drives the
// handshake with the node's own Handshake class. In every case the node
// closes the offending connection, says why in its log, and keeps serving
// everybody else.
#include <gtest/gtest.h>

#include <string>

#include "raw_peer.h"

namespace plexus_test {
namespace {

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
  expect_refused(bytes_of(hello("fake" + std::string(kFakeAddress), 5, target_->name(), 7)),
                 wire::HelloReply::BAD_VERSION, "unknown protocol version 7");
}

// Version 1 had the acceptor prove itself first (to anyone): it is refused.
TEST_F(BadInputTest, AHelloOfVersion1GetsBadVersion) {
  expect_refused(
      bytes_of(hello("fake" + std::string(kFakeAddress), 5, target_->name(), wire::VERSION_1)),
      wire::HelloReply::BAD_VERSION, "unknown protocol version 1");
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

TEST_F(BadInputTest, AHelloWithAnInvalidNameOrCreation) {
  std::string fake = "fake" + std::string(kFakeAddress);
  expect_refused(bytes_of(hello("no-at-sign", 5, target_->name())), std::nullopt,
                 "invalid node name");
  expect_refused(bytes_of(hello(fake, 0, target_->name())), std::nullopt, "creation 0");
}

// A connector that proves the cookie but sends no proper challenge of its own
// gets no proof from the node.
TEST_F(BadInputTest, AProofWithABadChallenge) {
  std::string fake = "fake" + std::string(kFakeAddress);
  auto sock = connect_raw();
  ASSERT_TRUE(sock->write_frame(hello(fake, 5, target_->name())));
  wire::Frame reply;
  ASSERT_EQ(sock->read_frame(&reply), RawSocket::Got::kFrame);
  wire::Frame proof;
  proof.mutable_proof()->set_digest(
      handshake_digest(kCookie, "plexus-connect", reply.hello_reply().challenge(), fake));
  proof.mutable_proof()->set_challenge("short");
  ASSERT_TRUE(sock->write_frame(proof));
  wire::Frame welcome;
  EXPECT_EQ(sock->read_frame(&welcome), RawSocket::Got::kClosed) << welcome.DebugString();
  EXPECT_TRUE(
      logs_.wait_for(LogLevel::kWarning, {"closed during handshake", "bad challenge size"}));
  expect_still_serving();
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
  // A refusal that depends on nothing secret (an empty Welcome), then the
  // node closes.
  wire::Frame refusal;
  ASSERT_EQ(sock->read_frame(&refusal), RawSocket::Got::kFrame);
  EXPECT_TRUE(refusal.has_welcome()) << refusal.DebugString();
  EXPECT_TRUE(refusal.welcome().digest().empty()) << refusal.DebugString();
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
  plexus::Status status =
      connect_to_fake("fake", [](RawSocket& sock, const wire::Hello&, const std::string& name) {
        // A fake that takes any proof and proves itself with another cookie.
        wire::Frame reply;
        reply.mutable_hello_reply()->set_status(wire::HelloReply::OK);
        reply.mutable_hello_reply()->set_version(kProtocolVersion);
        reply.mutable_hello_reply()->mutable_node()->set_name(name);
        reply.mutable_hello_reply()->mutable_node()->set_creation(77);
        reply.mutable_hello_reply()->set_challenge(std::string(kChallengeSize, 'f'));
        sock.write_frame(reply);
        wire::Frame proof;
        if (sock.read_frame(&proof) != RawSocket::Got::kFrame) return;
        wire::Frame welcome;
        welcome.mutable_welcome()->set_digest(
            handshake_digest("wrong-cookie", "plexus-accept", proof.proof().challenge(), name));
        sock.write_frame(welcome);
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
      connect_to_fake("fake", [&](RawSocket& sock, const wire::Hello&, const std::string&) {
        // Knows the cookie, but is not the node that was dialed.
        wire::Frame frame;
        wire::HelloReply* reply = frame.mutable_hello_reply();
        reply->set_status(wire::HelloReply::OK);
        reply->set_version(kProtocolVersion);
        reply->mutable_node()->set_name(impostor);
        reply->mutable_node()->set_creation(9);
        reply->set_challenge(std::string(kChallengeSize, 'i'));
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

}  // namespace
}  // namespace plexus_test

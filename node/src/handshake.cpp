#include "handshake.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

#include "frame_codec.h"
#include "node_name.h"

namespace plexus::detail {

namespace {
constexpr std::string_view kAcceptLabel = "plexus-accept";
constexpr std::string_view kConnectLabel = "plexus-connect";

bool same_digest(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}
}  // namespace

std::string handshake_digest(std::string_view cookie, std::string_view label,
                             std::string_view challenge, std::string_view name) {
  std::string data;
  data.reserve(label.size() + challenge.size() + name.size());
  data.append(label).append(challenge).append(name);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), cookie.data(), static_cast<int>(cookie.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), md, &len);
  return std::string(reinterpret_cast<const char*>(md), len);
}

std::string random_bytes(size_t n) {
  std::string out(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return out;
}

Handshake Handshake::connect(Identity self, std::string expected_peer) {
  Handshake h(Role::kConnect, std::move(self));
  h.expected_peer_ = std::move(expected_peer);
  return h;
}

Handshake Handshake::accept(Identity self, Admit admit) {
  Handshake h(Role::kAccept, std::move(self));
  h.admit_ = std::move(admit);
  h.step_ = Step::kAwaitHello;
  return h;
}

void Handshake::start(std::string* out) {
  if (role_ != Role::kConnect || step_ != Step::kStart) return;
  wire::Frame frame;
  wire::Hello* hello = frame.mutable_hello();
  hello->set_version(kProtocolVersion);
  hello->mutable_node()->set_name(self_.name);
  hello->mutable_node()->set_creation(self_.creation);
  hello->set_expected_name(expected_peer_);
  hello->set_hidden(self_.hidden);
  append_frame(frame, out);
  step_ = Step::kAwaitReply;
}

Handshake::State Handshake::fail(std::string why) {
  error_ = std::move(why);
  step_ = Step::kEnd;
  return state_ = State::kFailed;
}

Handshake::State Handshake::on_frame(const wire::Frame& frame, std::string* out) {
  if (state_ != State::kInProgress) return state_;
  switch (step_) {
    case Step::kAwaitHello:
      if (!frame.has_hello()) return fail("expected a Hello frame");
      return on_hello(frame.hello(), out);
    case Step::kAwaitReply:
      if (!frame.has_hello_reply()) return fail("expected a HelloReply frame");
      return on_reply(frame.hello_reply(), out);
    case Step::kAwaitProof:
      if (!frame.has_proof()) return fail("expected a Proof frame");
      return on_proof(frame.proof(), out);
    case Step::kAwaitWelcome:
      if (!frame.has_welcome()) return fail("expected a Welcome frame");
      return on_welcome(frame.welcome());
    default:
      return fail("handshake frame out of order");
  }
}

Handshake::State Handshake::on_hello(const wire::Hello& hello, std::string* out) {
  wire::Frame frame;
  wire::HelloReply* reply = frame.mutable_hello_reply();
  reply->set_version(kProtocolVersion);
  reply->mutable_node()->set_name(self_.name);
  reply->mutable_node()->set_creation(self_.creation);
  reply->set_hidden(self_.hidden);
  auto refuse = [&](wire::HelloReply::Status status, std::string why) {
    reply->set_status(status);
    append_frame(frame, out);
    return fail(std::move(why));
  };
  if (hello.version() != kProtocolVersion) {
    return refuse(wire::HelloReply::BAD_VERSION,
                  "unknown protocol version " + std::to_string(hello.version()));
  }
  const std::string& name = hello.node().name();
  if (!parse_node_name(name).ok()) return fail("peer sent an invalid node name");
  if (hello.node().creation() == 0) return fail("peer sent creation 0");
  if (name == self_.name) return fail("peer claims this node's own name " + name);
  if (hello.expected_name() != self_.name) {
    return refuse(wire::HelloReply::WRONG_NODE,
                  "peer " + name + " meant to reach " + hello.expected_name());
  }
  wire::HelloReply::Status status = admit_(name, hello.node().creation());
  if (status != wire::HelloReply::OK) {
    duplicate_ = status == wire::HelloReply::ALREADY_CONNECTED;
    return refuse(status, "refused " + name + ": " + wire::HelloReply::Status_Name(status));
  }
  peer_name_ = name;
  peer_creation_ = hello.node().creation();
  peer_hidden_ = hello.hidden();
  // Nothing that depends on the cookie: the peer has proved nothing yet.
  my_challenge_ = random_bytes(kChallengeSize);
  reply->set_status(wire::HelloReply::OK);
  reply->set_challenge(my_challenge_);
  append_frame(frame, out);
  step_ = Step::kAwaitProof;
  return state_;
}

Handshake::State Handshake::on_reply(const wire::HelloReply& reply, std::string* out) {
  if (reply.status() == wire::HelloReply::ALREADY_CONNECTED) {
    duplicate_ = true;
    return fail("peer " + expected_peer_ + " is connected already");
  }
  if (reply.status() != wire::HelloReply::OK) {
    return fail("peer " + expected_peer_ +
                " refused: " + wire::HelloReply::Status_Name(reply.status()));
  }
  if (reply.version() != kProtocolVersion) {
    return fail("unknown protocol version " + std::to_string(reply.version()));
  }
  if (reply.node().name() != expected_peer_) {
    return fail("peer claims to be " + reply.node().name() + ", expected " + expected_peer_);
  }
  if (reply.node().creation() == 0) return fail("peer sent creation 0");
  if (reply.challenge().size() != kChallengeSize) return fail("bad challenge size");
  peer_name_ = reply.node().name();
  peer_creation_ = reply.node().creation();
  peer_hidden_ = reply.hidden();
  my_challenge_ = random_bytes(kChallengeSize);
  wire::Frame frame;
  frame.mutable_proof()->set_digest(
      handshake_digest(self_.cookie, kConnectLabel, reply.challenge(), self_.name));
  frame.mutable_proof()->set_challenge(my_challenge_);
  append_frame(frame, out);
  step_ = Step::kAwaitWelcome;
  return state_;
}

Handshake::State Handshake::on_proof(const wire::Proof& proof, std::string* out) {
  std::string expected = handshake_digest(self_.cookie, kConnectLabel, my_challenge_, peer_name_);
  if (!same_digest(expected, proof.digest())) {
    // An empty Welcome, which depends on nothing secret, so that the
    // connector can say "wrong cookie" rather than "connection closed".
    wire::Frame refusal;
    refusal.mutable_welcome();
    append_frame(refusal, out);
    return fail("wrong cookie: " + peer_name_ + "'s proof does not match");
  }
  if (proof.challenge().size() != kChallengeSize) return fail("bad challenge size");
  // The peer knows the cookie: now this side proves it does too.
  wire::Frame frame;
  frame.mutable_welcome()->set_digest(
      handshake_digest(self_.cookie, kAcceptLabel, proof.challenge(), self_.name));
  append_frame(frame, out);
  step_ = Step::kEnd;
  return state_ = State::kDone;
}

Handshake::State Handshake::on_welcome(const wire::Welcome& welcome) {
  std::string expected = handshake_digest(self_.cookie, kAcceptLabel, my_challenge_, peer_name_);
  if (!same_digest(expected, welcome.digest())) {
    return fail("wrong cookie: " + expected_peer_ + "'s digest does not match");
  }
  step_ = Step::kEnd;
  return state_ = State::kDone;
}

}  // namespace plexus::detail

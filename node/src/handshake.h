// The connection handshake: version, identities, and proof of the cookie.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "plexus/wire.pb.h"

namespace plexus::detail {

constexpr uint32_t kProtocolVersion = wire::VERSION_2;
constexpr size_t kChallengeSize = 32;

// HMAC-SHA256(cookie, label | challenge | name). The labels differ per
// direction, so an answer can never be replayed as the other side's proof.
std::string handshake_digest(std::string_view cookie, std::string_view label,
                             std::string_view challenge, std::string_view name);
// Random bytes from the OS's CSPRNG (OpenSSL's RAND_bytes).
std::string random_bytes(size_t n);

// One side of a handshake, as a state machine over frames, with no I/O:
// the connection feeds it the frames it reads and writes what it appends.
//
//   connector                           acceptor
//   Hello{version, id, expected}     ->
//                                    <- HelloReply{status, id, challenge A}
//   Proof{HMAC(A, connector), chal. C} ->
//                                       checks the proof: done, then
//                                    <- Welcome{HMAC(C, acceptor)}
//   checks the digest: done
//
// The acceptor reveals nothing that depends on the cookie until the
// connector has proved it knows the cookie (as Erlang's distribution
// handshake): a stranger learns no digest to attack offline. The connector
// proves itself to whoever it dials, so it dials only names it trusts (its
// seeds, and members its peers name); TLS authenticates the acceptor first.
class Handshake {
 public:
  enum class Role { kConnect, kAccept };
  enum class State { kInProgress, kDone, kFailed };

  struct Identity {
    std::string name;
    uint64_t creation = 0;
    std::string cookie;
    bool hidden = false;
  };
  // The acceptor's decision on a Hello from (name, creation): OK to go on.
  using Admit = std::function<wire::HelloReply::Status(const std::string& name, uint64_t creation)>;

  // A connector that means to reach `expected_peer`.
  static Handshake connect(Identity self, std::string expected_peer);
  static Handshake accept(Identity self, Admit admit);

  // The connector's first frames (none for the acceptor).
  void start(std::string* out);
  // Feeds one frame; appends the answer, if any, to `out`.
  State on_frame(const wire::Frame& frame, std::string* out);

  State state() const { return state_; }
  Role role() const { return role_; }
  // Why it failed, for the log line.
  const std::string& error() const { return error_; }
  // The acceptor said a connection to it exists already (not an error).
  bool refused_as_duplicate() const { return duplicate_; }
  const std::string& peer_name() const { return peer_name_; }
  // The peer has named itself: an acceptor accepted its Hello, a connector
  // its HelloReply.
  bool introduced() const { return !peer_name_.empty(); }
  uint64_t peer_creation() const { return peer_creation_; }
  // The peer is a hidden node: connected, never listed or gossiped.
  bool peer_hidden() const { return peer_hidden_; }

 private:
  enum class Step { kStart, kAwaitHello, kAwaitReply, kAwaitProof, kAwaitWelcome, kEnd };
  Handshake(Role role, Identity self) : role_(role), self_(std::move(self)) {}
  State fail(std::string why);
  State on_hello(const wire::Hello& hello, std::string* out);
  State on_reply(const wire::HelloReply& reply, std::string* out);
  State on_proof(const wire::Proof& proof, std::string* out);
  State on_welcome(const wire::Welcome& welcome);

  Role role_;
  Identity self_;
  Admit admit_;
  std::string expected_peer_;
  Step step_ = Step::kStart;
  State state_ = State::kInProgress;
  std::string my_challenge_;
  std::string peer_name_;
  uint64_t peer_creation_ = 0;
  bool peer_hidden_ = false;
  std::string error_;
  bool duplicate_ = false;
};

}  // namespace plexus::detail

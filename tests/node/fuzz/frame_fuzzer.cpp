// libFuzzer target for what a node does with the bytes a peer sends: the
// frame reader (fed in chunks of random sizes, as reads arrive), the parse of
// each frame, the handshake in both roles, the hand-written Send and Signal
// encoders (checked against protobuf's parser), and exit reasons from the wire
// (with terms, which are limited in depth and may be malformed).
//
// Besides "no crash, no leak, no hang", it checks:
//   - the reader splits a stream into the same frames however it arrives;
//   - append_frame, append_send and append_signal write frames that read back
//     as what was encoded; to_wire and from_wire agree;
//   - a handshake writes only whole frames, proves the cookie correctly,
//     never goes on after it ended, and ends up done only with a valid peer;
//     an acceptor writes nothing that depends on the cookie (a digest) before
//     the connector has proved it.
//
// scripts/fuzz.sh builds and runs it; the seeds are in corpus/frame/ (written
// by make_corpus).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "frame_codec.h"
#include "fuzz_identity.h"
#include "handshake.h"
#include "node_name.h"

namespace {

namespace wire = plexus::wire;
namespace pd = plexus::detail;
using plexus::ExitReason;
using State = pd::Handshake::State;
using namespace plexus_fuzz;

#define FUZZ_CHECK(cond)                                                                           \
  do {                                                                                             \
    if (!(cond)) {                                                                                 \
      std::fprintf(stderr, "frame_fuzzer: check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__); \
      std::abort();                                                                                \
    }                                                                                              \
  } while (0)

// xorshift64: chunk sizes that differ from input to input.
struct Rng {
  uint64_t s;
  uint64_t next() {
    s ^= s << 13;
    s ^= s >> 7;
    s ^= s << 17;
    return s;
  }
};

struct Stream {
  std::vector<std::string> frames;
  bool too_large = false;
  size_t announced = 0;
};

// Reads `data` as a connection does: into space(), a chunk at a time (the
// whole rest at once without `rng`), taking every complete frame after each.
Stream read_stream(std::string_view data, Rng* rng, size_t max_frame_size) {
  pd::FrameReader reader(max_frame_size);
  Stream out;
  size_t pos = 0;
  for (;;) {
    for (;;) {
      std::string_view frame;
      pd::FrameReader::Next next = reader.next(&frame);
      if (next == pd::FrameReader::Next::kNeedMore) break;
      if (next == pd::FrameReader::Next::kTooLarge) {
        FUZZ_CHECK(reader.announced() > max_frame_size);
        out.too_large = true;
        out.announced = reader.announced();
        return out;  // the connection closes here
      }
      FUZZ_CHECK(frame.size() <= max_frame_size);
      out.frames.emplace_back(frame);
    }
    if (pos == data.size()) return out;
    size_t n = data.size() - pos;
    size_t want = n;
    if (rng) {
      uint64_t r = rng->next();
      n = std::min<size_t>(n, 1 + r % 700);
      want = std::max<size_t>(n, (r >> 16) % 4096);  // the room asked for varies too
    }
    size_t available = 0;
    uint8_t* space = reader.space(want, &available);
    FUZZ_CHECK(available >= want);
    std::memcpy(space, data.data() + pos, n);
    reader.commit(n);
    pos += n;
  }
}

// The frames a handshake wrote: whole frames that parse, nothing else.
std::vector<wire::Frame> written(const std::string& out) {
  Stream s = read_stream(out, nullptr, size_t{1} << 31);
  FUZZ_CHECK(!s.too_large);
  size_t total = 0;
  std::vector<wire::Frame> frames;
  for (const std::string& bytes : s.frames) {
    total += pd::kFrameHeaderSize + bytes.size();
    FUZZ_CHECK(frames.emplace_back().ParseFromString(bytes));
  }
  FUZZ_CHECK(total == out.size());
  return frames;
}

// The single frame of an encoder's output.
wire::Frame single_frame(const std::string& out) {
  std::vector<wire::Frame> frames = written(out);
  FUZZ_CHECK(frames.size() == 1);
  return frames[0];
}

// ---- Exit reasons

void check_reason(const wire::Reason& w) {
  ExitReason r = pd::from_wire(w);
  FUZZ_CHECK(static_cast<int>(r.kind()) <= static_cast<int>(ExitReason::Kind::kException));
  (void)r.to_string();
  wire::Reason again;
  pd::to_wire(r, &again);
  FUZZ_CHECK(static_cast<int>(again.kind()) == static_cast<int>(r.kind()));
  FUZZ_CHECK(pd::from_wire(again) == r);
}

// ---- The hand-written encoders against protobuf

pd::WireNode wire_node(wire::Side side, const wire::NodeId& node) {
  return pd::WireNode{side, &node.name(), node.creation()};
}

pd::WirePid wire_pid(const wire::Pid& p) {
  return pd::WirePid{p.index(), p.serial(), wire_node(p.side(), p.node())};
}

pd::WireRef wire_ref(const wire::Ref& r) {
  return pd::WireRef{r.id(), wire_node(r.side(), r.node())};
}

// Only a third node is named in full; the two ends of a connection are not.
bool same_node(wire::Side side, bool has_node, const wire::NodeId& encoded,
               const wire::NodeId& original) {
  if (side != wire::OTHER) return !has_node;
  return encoded.name() == original.name() && encoded.creation() == original.creation();
}

bool same_pid(const wire::Pid& encoded, const wire::Pid& original) {
  return encoded.index() == original.index() && encoded.serial() == original.serial() &&
         encoded.side() == original.side() &&
         same_node(original.side(), encoded.has_node(), encoded.node(), original.node());
}

bool same_ref(const wire::Ref& encoded, const wire::Ref& original) {
  return encoded.id() == original.id() && encoded.side() == original.side() &&
         same_node(original.side(), encoded.has_node(), encoded.node(), original.node());
}

uint8_t* copy_payload(const void* state, uint8_t* to) {
  const auto* s = static_cast<const std::string*>(state);
  std::memcpy(to, s->data(), s->size());
  return to + s->size();
}

void check_send_encoder(const wire::Send& s) {
  pd::WirePid to = wire_pid(s.to());
  pd::WirePid from = wire_pid(s.from());
  pd::WireRef ref = wire_ref(s.ref());
  pd::SendFields f;
  f.kind = s.kind();
  f.to = s.has_to() ? &to : nullptr;
  f.to_name = s.to_name();
  f.from = s.has_from() ? &from : nullptr;
  f.ref = s.has_ref() ? &ref : nullptr;
  f.type = s.type();
  f.type_name = s.type_name();
  f.payload = pd::PayloadWriter{s.payload().size(), &copy_payload, &s.payload()};
  std::string out = "x";  // appends after what is there
  pd::append_send(f, &out);
  FUZZ_CHECK(out[0] == 'x');
  wire::Frame back = single_frame(out.substr(1));
  FUZZ_CHECK(back.has_send());
  const wire::Send& b = back.send();
  FUZZ_CHECK(b.kind() == s.kind());
  FUZZ_CHECK(b.has_to() == s.has_to());
  if (s.has_to()) FUZZ_CHECK(same_pid(b.to(), s.to()));
  FUZZ_CHECK(b.to_name() == s.to_name());
  FUZZ_CHECK(b.has_from() == s.has_from());
  if (s.has_from()) FUZZ_CHECK(same_pid(b.from(), s.from()));
  FUZZ_CHECK(b.has_ref() == s.has_ref());
  if (s.has_ref()) FUZZ_CHECK(same_ref(b.ref(), s.ref()));
  FUZZ_CHECK(b.type() == s.type());
  FUZZ_CHECK(b.type_name() == s.type_name());
  FUZZ_CHECK(b.payload() == s.payload());
}

void check_signal_encoder(const wire::Signal& s) {
  pd::WirePid from = wire_pid(s.from());
  pd::WireRef ref = wire_ref(s.ref());
  ExitReason reason = pd::from_wire(s.reason());
  pd::SignalFields f;
  f.kind = s.kind();
  f.to = wire_pid(s.to());
  f.from = s.has_from() ? &from : nullptr;
  f.ref = s.has_ref() ? &ref : nullptr;
  f.reason = s.has_reason() ? &reason : nullptr;
  std::string out;
  pd::append_signal(f, &out);
  wire::Frame back = single_frame(out);
  FUZZ_CHECK(back.has_signal());
  const wire::Signal& b = back.signal();
  FUZZ_CHECK(b.kind() == s.kind());
  FUZZ_CHECK(same_pid(b.to(), s.to()));  // always written
  FUZZ_CHECK(b.has_from() == s.has_from());
  if (s.has_from()) FUZZ_CHECK(same_pid(b.from(), s.from()));
  FUZZ_CHECK(b.has_ref() == s.has_ref());
  if (s.has_ref()) FUZZ_CHECK(same_ref(b.ref(), s.ref()));
  FUZZ_CHECK(b.has_reason() == s.has_reason());
  if (s.has_reason()) {
    // What the encoder wrote is what to_wire says.
    wire::Reason expected;
    pd::to_wire(reason, &expected);
    FUZZ_CHECK(b.reason().kind() == expected.kind());
    FUZZ_CHECK(b.reason().has_detail() == expected.has_detail());
    FUZZ_CHECK(b.reason().detail() == expected.detail());
    FUZZ_CHECK(b.reason().has_term() == expected.has_term());
    FUZZ_CHECK(b.reason().SerializeAsString() == expected.SerializeAsString());
    FUZZ_CHECK(pd::from_wire(b.reason()) == reason);
  }
}

// ---- The handshake, both roles

pd::Handshake::Identity self_identity() {
  return pd::Handshake::Identity{std::string(kSelf), kSelfCreation, std::string(kCookie)};
}

class Handshakes {
 public:
  Handshakes()
      : acceptor_(pd::Handshake::accept(self_identity(),
                                        [](const std::string& name, uint64_t creation) {
                                          // The node asks only about peers that passed the checks.
                                          FUZZ_CHECK(pd::parse_node_name(name).ok());
                                          FUZZ_CHECK(name != kSelf);
                                          FUZZ_CHECK(creation != 0);
                                          return admit(creation);
                                        })),
        connector_(pd::Handshake::connect(self_identity(), std::string(kPeer))) {
    std::string out;
    acceptor_.start(&out);  // the acceptor has no first frame
    FUZZ_CHECK(out.empty());
    connector_.start(&out);
    wire::Frame hello = single_frame(out);
    FUZZ_CHECK(hello.has_hello());
    FUZZ_CHECK(hello.hello().version() == pd::kProtocolVersion);
    FUZZ_CHECK(hello.hello().node().name() == kSelf);
    FUZZ_CHECK(hello.hello().expected_name() == kPeer);
  }

  // Hello and Proof go to the acceptor, HelloReply and Welcome to the
  // connector, anything else to both (a data frame during a handshake).
  void feed(wire::Frame& frame) {
    switch (frame.body_case()) {
      case wire::Frame::kHello:
      case wire::Frame::kProof:
        to_acceptor(frame);
        break;
      case wire::Frame::kHelloReply:
      case wire::Frame::kWelcome:
        to_connector(frame);
        break;
      default:
        to_acceptor(frame);
        to_connector(frame);
        break;
    }
  }

 private:
  void to_acceptor(wire::Frame& frame) {
    if (frame.has_proof() && frame.proof().digest() == kFixDigest && !acceptor_challenge_.empty()) {
      frame.mutable_proof()->set_digest(pd::handshake_digest(
          kCookie, "plexus-connect", acceptor_challenge_, acceptor_.peer_name()));
    }
    State before = acceptor_.state();
    std::string out;
    State state = acceptor_.on_frame(frame, &out);
    FUZZ_CHECK(state == acceptor_.state());
    if (before != State::kInProgress) {
      FUZZ_CHECK(state == before && out.empty());  // an ended handshake stays ended
      return;
    }
    std::vector<wire::Frame> frames = written(out);
    FUZZ_CHECK(frames.size() <= 1);
    if (state == State::kFailed) FUZZ_CHECK(!acceptor_.error().empty());
    if (frames.empty()) {
      FUZZ_CHECK(state != State::kDone);
      return;
    }
    const wire::Frame& answer = frames[0];
    if (answer.has_hello_reply()) {
      FUZZ_CHECK(frame.has_hello());
      const wire::HelloReply& reply = answer.hello_reply();
      FUZZ_CHECK(reply.version() == pd::kProtocolVersion);
      FUZZ_CHECK(reply.node().name() == kSelf);
      FUZZ_CHECK(reply.node().creation() == kSelfCreation);
      // Nothing but status, version, identity and a challenge: no field that
      // depends on the cookie, to a peer that has proved nothing.
      wire::HelloReply bare;
      bare.set_status(reply.status());
      bare.set_version(reply.version());
      *bare.mutable_node() = reply.node();
      bare.set_challenge(reply.challenge());
      FUZZ_CHECK(bare.SerializeAsString() == reply.SerializeAsString());
      if (reply.status() == wire::HelloReply::OK) {
        FUZZ_CHECK(state == State::kInProgress);
        FUZZ_CHECK(reply.challenge().size() == pd::kChallengeSize);
        FUZZ_CHECK(acceptor_.peer_name() == frame.hello().node().name());
        FUZZ_CHECK(acceptor_.peer_creation() == frame.hello().node().creation());
        acceptor_challenge_ = reply.challenge();
      } else {
        FUZZ_CHECK(state == State::kFailed);
        FUZZ_CHECK(reply.challenge().empty());
        FUZZ_CHECK(acceptor_.refused_as_duplicate() ==
                   (reply.status() == wire::HelloReply::ALREADY_CONNECTED));
      }
    } else {
      FUZZ_CHECK(answer.has_welcome());
      FUZZ_CHECK(frame.has_proof());
      if (state == State::kFailed) {
        // A proof with the wrong digest is refused with an empty Welcome:
        // nothing that depends on the cookie.
        FUZZ_CHECK(answer.welcome().digest().empty());
        FUZZ_CHECK(frame.proof().digest() != pd::handshake_digest(kCookie, "plexus-connect",
                                                                  acceptor_challenge_,
                                                                  acceptor_.peer_name()));
      } else {
        FUZZ_CHECK(state == State::kDone);
        // Done only with the right proof, from a valid peer; then, and only
        // then, this side proves itself over the peer's challenge.
        FUZZ_CHECK(frame.proof().digest() == pd::handshake_digest(kCookie, "plexus-connect",
                                                                  acceptor_challenge_,
                                                                  acceptor_.peer_name()));
        FUZZ_CHECK(frame.proof().challenge().size() == pd::kChallengeSize);
        FUZZ_CHECK(answer.welcome().digest() == pd::handshake_digest(kCookie, "plexus-accept",
                                                                     frame.proof().challenge(),
                                                                     kSelf));
        FUZZ_CHECK(pd::parse_node_name(acceptor_.peer_name()).ok());
        FUZZ_CHECK(acceptor_.peer_name() != kSelf);
        FUZZ_CHECK(acceptor_.peer_creation() != 0);
      }
    }
  }

  void to_connector(wire::Frame& frame) {
    if (frame.has_welcome() && frame.welcome().digest() == kFixDigest &&
        !connector_challenge_.empty()) {
      frame.mutable_welcome()->set_digest(
          pd::handshake_digest(kCookie, "plexus-accept", connector_challenge_, kPeer));
    }
    State before = connector_.state();
    std::string out;
    State state = connector_.on_frame(frame, &out);
    FUZZ_CHECK(state == connector_.state());
    if (before != State::kInProgress) {
      FUZZ_CHECK(state == before && out.empty());
      return;
    }
    std::vector<wire::Frame> frames = written(out);
    FUZZ_CHECK(frames.size() <= 1);
    if (state == State::kFailed) {
      FUZZ_CHECK(frames.empty());
      FUZZ_CHECK(!connector_.error().empty());
      if (connector_.refused_as_duplicate()) {
        FUZZ_CHECK(frame.has_hello_reply() &&
                   frame.hello_reply().status() == wire::HelloReply::ALREADY_CONNECTED);
      }
      return;
    }
    if (!frames.empty()) {
      // The Proof, after a valid HelloReply from the node that was dialed.
      FUZZ_CHECK(state == State::kInProgress);
      FUZZ_CHECK(frames[0].has_proof());
      const wire::HelloReply& reply = frame.hello_reply();
      FUZZ_CHECK(reply.status() == wire::HelloReply::OK);
      FUZZ_CHECK(reply.node().name() == kPeer);
      FUZZ_CHECK(reply.node().creation() != 0);
      FUZZ_CHECK(frames[0].proof().digest() ==
                 pd::handshake_digest(kCookie, "plexus-connect", reply.challenge(), kSelf));
      FUZZ_CHECK(frames[0].proof().challenge().size() == pd::kChallengeSize);
      FUZZ_CHECK(connector_.peer_name() == kPeer);
      connector_challenge_ = frames[0].proof().challenge();
      return;
    }
    if (state == State::kDone) {
      // Done only once the acceptor proved the cookie over our challenge.
      FUZZ_CHECK(frame.has_welcome());
      FUZZ_CHECK(!connector_challenge_.empty());
      FUZZ_CHECK(frame.welcome().digest() ==
                 pd::handshake_digest(kCookie, "plexus-accept", connector_challenge_, kPeer));
      FUZZ_CHECK(connector_.peer_name() == kPeer);
      FUZZ_CHECK(connector_.peer_creation() != 0);
    }
  }

  pd::Handshake acceptor_;
  pd::Handshake connector_;
  std::string connector_challenge_;  // in the connector's Proof
  std::string acceptor_challenge_;   // in the acceptor's HelloReply
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Rng rng{std::hash<std::string_view>()(input) | 1};
  Stream chunked = read_stream(input, &rng, kMaxFrameSize);
  Stream whole = read_stream(input, nullptr, kMaxFrameSize);
  FUZZ_CHECK(chunked.frames == whole.frames);
  FUZZ_CHECK(chunked.too_large == whole.too_large && chunked.announced == whole.announced);

  Handshakes handshakes;
  for (const std::string& bytes : chunked.frames) {
    wire::Reason reason;
    if (reason.ParseFromString(bytes)) check_reason(reason);
    wire::Frame frame;
    if (!frame.ParseFromString(bytes)) break;  // the connection closes here
    // append_frame writes what reads back as the same frame.
    std::string again;
    pd::append_frame(frame, &again);
    FUZZ_CHECK(single_frame(again).SerializeAsString() == frame.SerializeAsString());
    if (frame.has_send()) check_send_encoder(frame.send());
    if (frame.has_signal()) {
      check_signal_encoder(frame.signal());
      if (frame.signal().has_reason()) check_reason(frame.signal().reason());
    }
    handshakes.feed(frame);
  }
  return 0;
}

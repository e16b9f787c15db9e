// Writes the frame fuzzer's seed corpus: one file per case, each a stream of
// length-prefixed frames as a peer would send them (tests/node/fuzz/corpus/frame/
// is its output). The handshake seeds are made for fuzz_identity.h.
//
// Usage: make_corpus <directory>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "frame_codec.h"
#include "fuzz_identity.h"
#include "plexus/node/exit_reason_proto.h"

namespace {

namespace wire = plexus::wire;
namespace pd = plexus::detail;
using namespace plexus_fuzz;

std::string frame_bytes(const std::function<void(wire::Frame&)>& fill) {
  wire::Frame frame;
  fill(frame);
  std::string out;
  pd::append_frame(frame, &out);
  return out;
}

std::string hello(uint32_t version, std::string_view from, uint64_t creation, std::string_view to) {
  return frame_bytes([&](wire::Frame& f) {
    wire::Hello* h = f.mutable_hello();
    h->set_version(version);
    h->mutable_node()->set_name(std::string(from));
    h->mutable_node()->set_creation(creation);
    h->set_expected_name(std::string(to));
  });
}

std::string hello_reply(wire::HelloReply::Status status, std::string_view from) {
  return frame_bytes([&](wire::Frame& f) {
    wire::HelloReply* r = f.mutable_hello_reply();
    r->set_status(status);
    r->set_version(wire::VERSION_2);
    r->mutable_node()->set_name(std::string(from));
    r->mutable_node()->set_creation(kPeerCreation);
    if (status == wire::HelloReply::OK) r->set_challenge(std::string(32, 'r'));
  });
}

// The digest kFixDigest is replaced by the fuzzer with the right one.
std::string proof(std::string_view digest) {
  return frame_bytes([&](wire::Frame& f) {
    f.mutable_proof()->set_digest(std::string(digest));
    f.mutable_proof()->set_challenge(std::string(32, 'p'));
  });
}

std::string welcome(std::string_view digest) {
  return frame_bytes([&](wire::Frame& f) { f.mutable_welcome()->set_digest(std::string(digest)); });
}

std::string tick() {
  return frame_bytes([](wire::Frame& f) { f.mutable_tick(); });
}

std::string gossip() {
  return frame_bytes([](wire::Frame& f) {
    f.mutable_gossip()->add_members("c@127.0.0.1:3");
    f.mutable_gossip()->add_members("d@10.0.0.4:4369");
  });
}

uint8_t* copy_payload(const void* state, uint8_t* to) {
  const auto* s = static_cast<const std::string*>(state);
  std::copy(s->begin(), s->end(), to);
  return to + s->size();
}

const std::string kThird = "third@127.0.0.1:7";

// A Send as a node writes it: a call with a pid, a sender, a ref and the
// type's name (the first use of number 1).
std::string send_call() {
  static const std::string payload = "\x0a\x05hello";
  pd::WirePid to{3, 4, {wire::RECEIVER, nullptr, 0}};
  pd::WirePid from{5, 6, {wire::OTHER, &kThird, 0x77}};
  pd::WireRef ref{77, {wire::SENDER, nullptr, 0}};
  pd::SendFields send;
  send.kind = wire::Send::CALL;
  send.to = &to;
  send.from = &from;
  send.ref = &ref;
  send.type = 1;
  send.type_name = "plexus_test.Text";
  send.payload = pd::PayloadWriter{payload.size(), &copy_payload, &payload};
  std::string out;
  pd::append_send(send, &out);
  return out;
}

// A message to a registered name, with an already numbered type.
std::string send_by_name() {
  static const std::string payload = "\x08\x2a";
  pd::SendFields send;
  send.to_name = "echo";
  send.type = 1;
  send.payload = pd::PayloadWriter{payload.size(), &copy_payload, &payload};
  std::string out;
  pd::append_send(send, &out);
  return out;
}

std::string signal(wire::Signal::Kind kind, const plexus::ExitReason* reason) {
  pd::WirePid from{1, 2, {wire::SENDER, nullptr, 0}};
  pd::WireRef ref{9, {wire::OTHER, &kThird, 0x77}};
  pd::SignalFields s;
  s.kind = kind;
  s.to = pd::WirePid{3, 4, {wire::RECEIVER, nullptr, 0}};
  s.from = &from;
  s.ref = kind >= wire::Signal::MONITOR ? &ref : nullptr;
  s.reason = reason;
  std::string out;
  pd::append_signal(s, &out);
  return out;
}

// A Down whose reason is a term nested deeper than a sender would send.
std::string signal_with_deep_term() {
  return frame_bytes([](wire::Frame& f) {
    wire::Signal* s = f.mutable_signal();
    s->set_kind(wire::Signal::DOWN);
    s->mutable_to()->set_index(3);
    s->mutable_from()->set_index(1);
    s->mutable_ref()->set_id(9);
    s->mutable_reason()->set_kind(wire::Reason::ERROR);
    wire::Term* t = s->mutable_reason()->mutable_term();
    for (int d = 1; d < plexus::kMaxTermDepth + 8; ++d) t = t->mutable_list()->add_items();
    t->set_atom("deep");
  });
}

std::string spawn_request() {
  return frame_bytes([](wire::Frame& f) {
    wire::SpawnRequest* r = f.mutable_spawn_request();
    r->set_id(12);
    r->mutable_requester()->set_index(1);
    r->mutable_requester()->set_serial(1);
    r->set_type("worker");
    r->set_args_type("plexus_test.SpawnArgs");
    r->set_args("\x0a\x01x");
    r->set_link(true);
    r->set_monitor(true);
  });
}

std::string spawn_reply() {
  return frame_bytes([](wire::Frame& f) {
    wire::SpawnReply* r = f.mutable_spawn_reply();
    r->set_id(12);
    r->mutable_requester()->set_index(1);
    r->mutable_requester()->set_serial(1);
    r->mutable_requester()->set_side(wire::RECEIVER);
    r->set_error("no process type 'worker'");
    r->set_code(5);
  });
}

std::string header(uint32_t n) {
  return {static_cast<char>(n >> 24), static_cast<char>(n >> 16), static_cast<char>(n >> 8),
          static_cast<char>(n)};
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s <directory>\n", argv[0]);
    return 2;
  }
  std::filesystem::path dir = argv[1];
  std::filesystem::create_directories(dir);

  using plexus::ExitReason;
  const ExitReason exception = ExitReason::exception("std::runtime_error", "boom");
  const ExitReason shutdown = ExitReason::shutdown("bye");
  const ExitReason noconnection = ExitReason::noconnection();
  const ExitReason error = ExitReason::error("custom");
  const ExitReason killed = ExitReason::killed();
  using plexus::Term;
  const ExitReason term = ExitReason::error(Term::tuple(
      {Term::atom("badmatch"),
       Term::list({Term::integer(-1), Term::floating(2.5), Term::binary("b\"\n"), Term(),
                   Term::map({{Term::atom("k"), Term::tuple({Term::atom("Quoted atom")})}})})}));

  const std::string good_hello = hello(wire::VERSION_2, kPeer, kPeerCreation, kSelf);
  const std::string good_reply = hello_reply(wire::HelloReply::OK, kPeer);
  const std::string data = send_call() + send_by_name() +
                           signal(wire::Signal::LINK_EXIT, &exception) +
                           signal(wire::Signal::DOWN, &noconnection) + tick() + gossip();

  const std::vector<std::pair<std::string, std::string>> seeds = {
      // One frame of each kind.
      {"hello", good_hello},
      {"hello_reply", good_reply},
      {"proof", proof(kFixDigest)},
      {"welcome", welcome(kFixDigest)},
      {"send_call", send_call()},
      {"send_by_name", send_by_name()},
      {"signal_link", signal(wire::Signal::LINK, nullptr)},
      {"signal_exit_shutdown", signal(wire::Signal::EXIT, &shutdown)},
      {"signal_link_exit_exception", signal(wire::Signal::LINK_EXIT, &exception)},
      {"signal_monitor", signal(wire::Signal::MONITOR, nullptr)},
      {"signal_down_noconnection", signal(wire::Signal::DOWN, &noconnection)},
      {"signal_exit_error", signal(wire::Signal::EXIT, &error)},
      {"signal_exit_killed", signal(wire::Signal::EXIT, &killed)},
      {"signal_down_term", signal(wire::Signal::DOWN, &term)},
      {"signal_down_deep_term", signal_with_deep_term()},
      {"spawn_request", spawn_request()},
      {"spawn_reply", spawn_reply()},
      {"tick", tick()},
      {"gossip", gossip()},
      // Whole conversations: each handshake to its end, then traffic.
      {"accept_then_data", good_hello + proof(kFixDigest) + data},
      {"connect_then_data", good_reply + welcome(kFixDigest) + data},
      {"both_then_data", good_hello + good_reply + proof(kFixDigest) + welcome(kFixDigest) + data},
      // Refusals and mistakes.
      {"hello_bad_version", hello(7, kPeer, kPeerCreation, kSelf)},
      {"hello_wrong_node", hello(wire::VERSION_2, kPeer, kPeerCreation, "other@127.0.0.1:9")},
      {"hello_own_name", hello(wire::VERSION_2, kSelf, kPeerCreation, kSelf)},
      {"hello_duplicate", hello(wire::VERSION_2, kPeer, kPeerCreation + 1, kSelf)},
      {"reply_already_connected", hello_reply(wire::HelloReply::ALREADY_CONNECTED, kPeer)},
      {"reply_impostor", hello_reply(wire::HelloReply::OK, "impostor@127.0.0.1:2")},
      {"welcome_wrong_digest", good_reply + welcome(std::string(32, 'w'))},
      {"wrong_proof", good_hello + proof(std::string(32, 'w'))},
      {"data_before_hello", send_call() + good_hello},
      {"empty_frame", header(0)},
      {"truncated", good_hello.substr(0, good_hello.size() - 5)},
      {"oversized", header(1 << 20) + std::string(16, 'o')},
      {"garbage", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"},
  };
  for (const auto& [name, bytes] : seeds) {
    std::ofstream out(dir / name, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
      std::fprintf(stderr, "cannot write %s\n", (dir / name).c_str());
      return 1;
    }
  }
  std::printf("wrote %zu seeds to %s\n", seeds.size(), dir.c_str());
  return 0;
}

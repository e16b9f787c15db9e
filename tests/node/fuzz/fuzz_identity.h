// The fixed identity and settings of the frame fuzzer's handshakes, shared
// with make_corpus, which writes seeds made for them.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "plexus/wire.pb.h"

namespace plexus_fuzz {

// The node under test, in both roles.
inline constexpr std::string_view kSelf = "fuzz@127.0.0.1:1";
inline constexpr uint64_t kSelfCreation = 0x5e1f;
// The node its connector dials.
inline constexpr std::string_view kPeer = "peer@127.0.0.1:2";
inline constexpr uint64_t kPeerCreation = 0x9ee8;  // admitted (see admit)
inline constexpr std::string_view kCookie = "fuzz-cookie";
// A digest of exactly these bytes in a Proof or HelloReply is replaced by the
// right one, so that the fuzzer gets past the proofs (the challenges are
// random) and explores what follows.
inline constexpr std::string_view kFixDigest = "fix";
// The frame size limit, small enough that the fuzzer reaches both sides.
inline constexpr size_t kMaxFrameSize = 2048;

// The acceptor's decision on a Hello, chosen by its creation number.
inline plexus::wire::HelloReply::Status admit(uint64_t creation) {
  switch (creation % 8) {
    case 1:
      return plexus::wire::HelloReply::ALREADY_CONNECTED;
    case 2:
      return plexus::wire::HelloReply::WRONG_NODE;
    case 3:
      return plexus::wire::HelloReply::BAD_VERSION;
    default:
      return plexus::wire::HelloReply::OK;
  }
}

}  // namespace plexus_fuzz

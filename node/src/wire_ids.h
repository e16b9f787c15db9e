// WireIds: pids and refs as they cross one connection, and back.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "frame_codec.h"
#include "node_table.h"
#include "peer_directory.h"
#include "plexus/pid.h"
#include "plexus/wire.pb.h"

namespace plexus::detail {

// On the wire a pid or ref names its node relative to the connection (the
// sender, the receiver) or in full (a third node). Thread-safe.
class WireIds {
 public:
  WireIds(NodeTable& table, PeerDirectory& peers) : table_(table), peers_(peers) {}

  // This node's identity, set once it listens.
  void set_self(std::string name, uint64_t creation) {
    self_ = std::move(name);
    creation_ = creation;
  }

  // ---- Encoding, for the peer whose NodeTable index is `peer_index`
  WirePid encode(uint32_t peer_index, Pid pid) const;
  WireRef encode(uint32_t peer_index, Ref ref) const;

  // ---- Decoding, from the peer whose NodeTable index is `peer_index`
  // A pid or ref of a third node is interned (its node gets an index). The
  // null pid or ref if it is malformed or the node table is full.
  Pid decode(uint32_t peer_index, const wire::Pid& pid);
  Ref decode(uint32_t peer_index, const wire::Ref& ref);

 private:
  WireNode node_of(uint32_t peer_index, uint32_t node) const;
  std::optional<uint32_t> node_index(uint32_t peer_index, wire::Side side,
                                     const wire::NodeId& node);

  NodeTable& table_;
  PeerDirectory& peers_;
  // Written once, before the loop starts and before any sender can encode.
  std::string self_;
  uint64_t creation_ = 0;
};

}  // namespace plexus::detail

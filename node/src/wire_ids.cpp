#include "wire_ids.h"

namespace plexus::detail {

WireNode WireIds::node_of(uint32_t peer_index, uint32_t node) const {
  if (node == 0) return WireNode{wire::SENDER, nullptr, 0};
  if (node == peer_index) return WireNode{wire::RECEIVER, nullptr, 0};
  if (std::optional<NodeEntry> e = table_.get(node)) {
    return WireNode{wire::OTHER, e->name, e->creation};
  }
  return WireNode{};
}

WirePid WireIds::encode(uint32_t peer_index, Pid pid) const {
  return WirePid{pid.index, pid.serial, node_of(peer_index, pid.node)};
}

WireRef WireIds::encode(uint32_t peer_index, Ref ref) const {
  // A ref names only its node's slot: the incarnation in it now.
  uint32_t slot = ref.node();
  if (slot == 0) return WireRef{ref.counter(), WireNode{wire::SENDER, nullptr, 0}};
  if (slot == (peer_index & 0xFFFF))
    return WireRef{ref.counter(), WireNode{wire::RECEIVER, nullptr, 0}};
  if (auto e = table_.get_slot(slot)) {
    return WireRef{ref.counter(), WireNode{wire::OTHER, e->second.name, e->second.creation}};
  }
  return WireRef{ref.counter(), WireNode{}};
}

std::optional<uint32_t> WireIds::node_index(uint32_t peer_index, wire::Side side,
                                            const wire::NodeId& node) {
  switch (side) {
    case wire::SENDER:
      return peer_index;
    case wire::RECEIVER:
      return 0;
    case wire::OTHER: {
      if (node.name() == self_) {
        if (node.creation() == creation_) return 0;
        // An earlier incarnation of this node: a pid that routes nowhere.
        uint32_t index =
            table_.intern(node.name(), node.creation(), nullptr, NodeTable::Use::kNamed);
        return index ? std::optional<uint32_t>(index) : std::nullopt;
      }
      // A third node, only named: bounded (PeerDirectory::get_named).
      Peer* peer = peers_.get_named(node.name());
      if (!peer) return std::nullopt;
      uint32_t index = table_.intern(node.name(), node.creation(), peer, NodeTable::Use::kNamed);
      return index ? std::optional<uint32_t>(index) : std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

Pid WireIds::decode(uint32_t peer_index, const wire::Pid& pid) {
  if (pid.serial() == 0) return Pid{};
  std::optional<uint32_t> index = node_index(peer_index, pid.side(), pid.node());
  if (!index) return Pid{};
  return Pid{*index, pid.index(), pid.serial()};
}

Ref WireIds::decode(uint32_t peer_index, const wire::Ref& ref) {
  std::optional<uint32_t> index = node_index(peer_index, ref.side(), ref.node());
  if (!index || ref.id() == 0) return Ref{};
  return Ref::make(*index, ref.id());
}

}  // namespace plexus::detail

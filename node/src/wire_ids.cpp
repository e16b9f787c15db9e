#include "wire_ids.h"

namespace plexus::detail {

WireNode WireIds::node_of(uint32_t peer_index, uint32_t node) const {
  if (node == 0) return WireNode{wire::SENDER, nullptr, 0};
  if (node == peer_index) return WireNode{wire::RECEIVER, nullptr, 0};
  if (const NodeEntry* e = table_.get(node)) return WireNode{wire::OTHER, &e->name, e->creation};
  return WireNode{};
}

WirePid WireIds::encode(uint32_t peer_index, Pid pid) const {
  return WirePid{pid.index, pid.serial, node_of(peer_index, pid.node)};
}

WireRef WireIds::encode(uint32_t peer_index, Ref ref) const {
  return WireRef{ref.counter(), node_of(peer_index, ref.node())};
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
        uint32_t index = table_.intern(node.name(), node.creation(), nullptr);
        return index ? std::optional<uint32_t>(index) : std::nullopt;
      }
      Peer* peer = peers_.get(node.name());
      if (!peer) return std::nullopt;
      uint32_t index = table_.intern(node.name(), node.creation(), peer);
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

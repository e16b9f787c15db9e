// NodeTable: the node incarnations this node has heard of, numbered for Pid::node.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <utility>

#include "plexus/detail/mutex.h"

namespace plexus::detail {

class Peer;

// One incarnation of a remote node. Immutable once published.
struct NodeEntry {
  std::string name;
  uint64_t creation = 0;
  Peer* peer = nullptr;  // the peer of `name`; lives as long as the node
};

// Index 0 is this node (never stored); remote incarnations get 1, 2, ... in
// the order they are first seen, and keep their index for the node's life, so
// a pid of an old incarnation never names the new one. Lookups by index are
// lock-free (senders on every thread); interning takes a lock.
class NodeTable {
 public:
  // Ref::node has 16 bits.
  static constexpr uint32_t kCapacity = 1u << 16;

  NodeTable() = default;
  ~NodeTable();
  NodeTable(const NodeTable&) = delete;
  NodeTable& operator=(const NodeTable&) = delete;

  // The entry with `index`, or null.
  const NodeEntry* get(uint32_t index) const {
    if (index == 0 || index >= kCapacity) return nullptr;
    const Chunk* chunk = chunks_[index / kChunkSize].load(std::memory_order_acquire);
    if (!chunk) return nullptr;
    return (*chunk)[index % kChunkSize].load(std::memory_order_acquire);
  }

  // The index of (name, creation), adding it with `peer` if new; 0 if the
  // table is full.
  uint32_t intern(const std::string& name, uint64_t creation, Peer* peer);
  // The index of (name, creation), or 0.
  uint32_t find(const std::string& name, uint64_t creation) const;

 private:
  static constexpr uint32_t kChunkSize = 256;
  using Chunk = std::array<std::atomic<const NodeEntry*>, kChunkSize>;

  mutable Mutex mu_;  // interning, from the loop and from senders (pids in messages)
  std::map<std::pair<std::string, uint64_t>, uint32_t> by_id_ PLEXUS_GUARDED_BY(mu_);
  uint32_t next_ PLEXUS_GUARDED_BY(mu_) = 1;
  std::array<std::atomic<Chunk*>, kCapacity / kChunkSize> chunks_{};
};

}  // namespace plexus::detail

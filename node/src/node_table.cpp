#include "node_table.h"

namespace plexus::detail {

NodeTable::~NodeTable() {
  for (auto& slot : chunks_) {
    Chunk* chunk = slot.load(std::memory_order_relaxed);
    if (!chunk) continue;
    for (auto& entry : *chunk) delete entry.load(std::memory_order_relaxed);
    delete chunk;
  }
}

uint32_t NodeTable::intern(const std::string& name, uint64_t creation, Peer* peer) {
  MutexLock lock(mu_);
  auto [it, inserted] = by_id_.try_emplace({name, creation}, next_);
  if (!inserted) return it->second;
  if (next_ >= kCapacity) {
    by_id_.erase(it);
    return 0;
  }
  uint32_t index = next_++;
  auto& slot = chunks_[index / kChunkSize];
  Chunk* chunk = slot.load(std::memory_order_relaxed);
  if (!chunk) {
    chunk = new Chunk{};
    slot.store(chunk, std::memory_order_release);
  }
  (*chunk)[index % kChunkSize].store(new NodeEntry{name, creation, peer},
                                     std::memory_order_release);
  return index;
}

uint32_t NodeTable::find(const std::string& name, uint64_t creation) const {
  MutexLock lock(mu_);
  auto it = by_id_.find({name, creation});
  return it == by_id_.end() ? 0 : it->second;
}

}  // namespace plexus::detail

#include "node_table.h"

#include "peer.h"

namespace plexus::detail {

NodeTable::NodeTable() { meta_.resize(1); }

NodeTable::~NodeTable() {
  for (auto& chunk : chunks_) delete chunk.load(std::memory_order_relaxed);
}

NodeTable::Slot* NodeTable::slot(uint32_t index) const {
  if (index == 0 || index >= kSlots) return nullptr;
  Chunk* chunk = chunks_[index / kChunkSize].load(std::memory_order_acquire);
  return chunk ? &(*chunk)[index % kChunkSize] : nullptr;
}

NodeTable::Slot& NodeTable::make_slot(uint32_t index) {
  auto& cell = chunks_[index / kChunkSize];
  Chunk* chunk = cell.load(std::memory_order_relaxed);
  if (!chunk) {
    chunk = new Chunk{};
    cell.store(chunk, std::memory_order_release);
  }
  return (*chunk)[index % kChunkSize];
}

std::optional<NodeEntry> NodeTable::get(uint32_t node) const {
  const Slot* s = slot(node & 0xFFFF);
  if (!s) return std::nullopt;
  uint32_t before = s->seq.load(std::memory_order_acquire);
  if ((before & 1) != 0 || (before >> 1) != (node >> 16)) return std::nullopt;
  NodeEntry e{nullptr, s->creation.load(std::memory_order_relaxed),
              s->peer.load(std::memory_order_relaxed)};
  std::atomic_thread_fence(std::memory_order_acquire);
  if (s->seq.load(std::memory_order_relaxed) != before) return std::nullopt;  // being reused
  e.name = e.peer ? &e.peer->name : self_;
  return e;
}

std::optional<std::pair<uint32_t, NodeEntry>> NodeTable::get_slot(uint32_t index) const {
  const Slot* s = slot(index);
  if (!s) return std::nullopt;
  uint32_t seq = s->seq.load(std::memory_order_acquire);
  if ((seq & 1) != 0 || seq == 0) return std::nullopt;
  uint32_t node = number(index, static_cast<uint16_t>(seq >> 1));
  std::optional<NodeEntry> e = get(node);
  if (!e) return std::nullopt;
  return std::pair{node, *e};
}

uint32_t NodeTable::intern(const std::string& name, uint64_t creation, Peer* peer, Use use,
                           std::string* why) {
  MutexLock lock(mu_);
  auto it = by_id_.find({name, creation});
  if (it != by_id_.end()) {
    Meta& m = meta_[it->second];
    if (use == Use::kConnected && m.state == State::kNamed) --named_count_;
    if (use == Use::kConnected && m.state == State::kDown) --down_count_;
    if (use == Use::kConnected && (m.state == State::kNamed || m.state == State::kDown)) {
      m.state = State::kConfirmed;
    }
    return number(it->second, m.generation);
  }
  uint32_t index = take_slot(use, why);
  if (index == 0) return 0;
  Meta& m = meta_[index];
  m.generation = static_cast<uint16_t>(m.generation + 1 == 0 ? 1 : m.generation + 1);
  m.id = {name, creation};
  Slot& s = make_slot(index);
  // Seqlock write: readers that see the old generation, or a write in
  // progress, find nothing.
  s.seq.store(uint32_t{m.generation} << 1 | 1, std::memory_order_relaxed);
  std::atomic_thread_fence(std::memory_order_release);
  s.creation.store(creation, std::memory_order_relaxed);
  s.peer.store(peer, std::memory_order_relaxed);
  s.seq.store(uint32_t{m.generation} << 1, std::memory_order_release);
  by_id_.emplace(m.id, index);
  ++live_count_;
  if (!peer) {
    // An earlier incarnation of this node: gone already.
    m.state = State::kConfirmed;
    retire_slot(index);
  } else if (use == Use::kNamed) {
    m.state = State::kNamed;
    named_.push_back({index, m.generation});
    ++named_count_;
  } else {
    m.state = State::kConfirmed;
  }
  return number(index, m.generation);
}

uint32_t NodeTable::take_slot(Use use, std::string* why) {
  auto now = Clock::now();
  while (!retired_.empty()) {
    const Since& e = retired_.front();
    if (current(e, State::kRetired)) {
      if (meta_[e.slot].retired_at + kGrace > now) break;
      free_slot(e.slot);
    }
    retired_.pop_front();
  }
  if (use == Use::kNamed && named_count_ >= kMaxNamed) evict_oldest(named_, State::kNamed);
  if (!reusable_.empty()) {
    uint32_t index = reusable_.front();
    reusable_.pop_front();
    return index;
  }
  if (next_fresh_ < kSlots) {
    meta_.resize(next_fresh_ + 1);
    return next_fresh_++;
  }
  // Full: the oldest retired incarnation goes first, grace or not; then, for
  // a peer that connects, the oldest that was only named, then the one that
  // has been down longest.
  if (evict_oldest(retired_, State::kRetired) ||
      (use == Use::kConnected &&
       (evict_oldest(named_, State::kNamed) || evict_oldest(down_, State::kDown)))) {
    return take_slot(use, why);
  }
  if (why) {
    *why = "node table full: " + std::to_string(live_count_) + " node incarnations in use (" +
           std::to_string(named_count_) + " of them named in pids but never connected)";
  }
  return 0;
}

void NodeTable::free_slot(uint32_t index) {
  Meta& m = meta_[index];
  if (m.state == State::kNamed) --named_count_;
  if (m.state == State::kDown) --down_count_;
  if (m.state == State::kRetired) --retired_count_;
  if (m.state != State::kRetired && m.state != State::kFree) --live_count_;
  by_id_.erase(m.id);
  m.state = State::kFree;
  m.id = {};
  // Invalidated: a reader of any generation finds nothing.
  make_slot(index).seq.store(uint32_t{m.generation} << 1 | 1, std::memory_order_release);
  reusable_.push_back(index);
}

bool NodeTable::evict_oldest(std::deque<Since>& order, State state) {
  while (!order.empty()) {
    Since e = order.front();
    order.pop_front();
    if (current(e, state)) {
      free_slot(e.slot);
      return true;
    }
  }
  return false;
}

void NodeTable::retire_slot(uint32_t index) {
  Meta& m = meta_[index];
  if (m.state == State::kNamed) --named_count_;
  if (m.state == State::kDown) --down_count_;
  --live_count_;
  ++retired_count_;
  m.state = State::kRetired;
  m.retired_at = Clock::now();
  retired_.push_back({index, m.generation});
}

void NodeTable::retire(const std::string& name, uint64_t creation) {
  MutexLock lock(mu_);
  auto it = by_id_.find({name, creation});
  if (it == by_id_.end()) return;
  State state = meta_[it->second].state;
  if (state == State::kRetired || state == State::kFree) return;
  retire_slot(it->second);
}

uint32_t NodeTable::went_down(const std::string& name, uint64_t creation) {
  MutexLock lock(mu_);
  auto it = by_id_.find({name, creation});
  if (it == by_id_.end()) return 0;
  Meta& m = meta_[it->second];
  if (m.state != State::kConfirmed) return 0;
  m.state = State::kDown;
  ++down_count_;
  down_.push_back({it->second, m.generation});
  return number(it->second, m.generation);
}

NodeTable::Counts NodeTable::counts() const {
  MutexLock lock(mu_);
  return Counts{live_count_, named_count_, down_count_, retired_count_};
}

}  // namespace plexus::detail

#include "process_table.h"

namespace plexus::detail {

ProcessTable::ProcessTable(uint32_t capacity)
    : capacity_(capacity),
      max_chunks_((capacity + kChunkSize - 1) / kChunkSize),
      chunks_(std::make_unique<std::atomic<Process*>[]>(max_chunks_)) {
  for (uint32_t i = 0; i < max_chunks_; ++i) chunks_[i].store(nullptr, std::memory_order_relaxed);
}

ProcessTable::~ProcessTable() {
  for (uint32_t i = 0; i < max_chunks_; ++i) delete[] chunks_[i].load(std::memory_order_relaxed);
}

Process* ProcessTable::allocate() {
  // Slots come in whole chunks; the limit is on live processes.
  if (live_.fetch_add(1, std::memory_order_relaxed) >= static_cast<int64_t>(capacity_)) {
    live_.fetch_sub(1, std::memory_order_relaxed);
    return nullptr;
  }
  uint64_t head = free_head_.load(std::memory_order_acquire);
  for (;;) {
    uint32_t slot = static_cast<uint32_t>(head);
    if (slot == 0) {
      if (!grow()) {
        live_.fetch_sub(1, std::memory_order_relaxed);
        return nullptr;
      }
      head = free_head_.load(std::memory_order_acquire);
      continue;
    }
    Process* p = get(slot - 1);
    uint32_t next = p->free_next.load(std::memory_order_relaxed);
    uint64_t new_head = (((head >> 32) + 1) << 32) | next;
    if (free_head_.compare_exchange_weak(head, new_head, std::memory_order_acquire,
                                         std::memory_order_acquire)) {
      uint32_t serial = p->serial.load(std::memory_order_relaxed) + 1;
      if (serial == 0) serial = 1;  // 0 is the null pid's
      p->serial.store(serial, std::memory_order_release);
      return p;
    }
  }
}

void ProcessTable::release(Process* p) {
  live_.fetch_sub(1, std::memory_order_relaxed);
  push_chain(p, p);
}

void ProcessTable::push_chain(Process* first, Process* last) {
  uint64_t head = free_head_.load(std::memory_order_relaxed);
  for (;;) {
    last->free_next.store(static_cast<uint32_t>(head), std::memory_order_relaxed);
    uint64_t new_head = (((head >> 32) + 1) << 32) | (first->index + 1);
    if (free_head_.compare_exchange_weak(head, new_head, std::memory_order_release,
                                         std::memory_order_relaxed))
      return;
  }
}

bool ProcessTable::grow() {
  std::lock_guard<std::mutex> lock(grow_mu_);
  if (static_cast<uint32_t>(free_head_.load(std::memory_order_acquire)) != 0)
    return true;  // someone else grew it
  uint32_t chunk = chunk_count_.load(std::memory_order_relaxed);
  if (chunk >= max_chunks_) return false;
  auto* base = new Process[kChunkSize];
  for (uint32_t i = 0; i < kChunkSize; ++i) {
    base[i].index = chunk * kChunkSize + i;
    base[i].free_next.store(i + 1 < kChunkSize ? base[i].index + 2 : 0, std::memory_order_relaxed);
  }
  chunks_[chunk].store(base, std::memory_order_release);
  chunk_count_.store(chunk + 1, std::memory_order_release);
  push_chain(&base[0], &base[kChunkSize - 1]);
  return true;
}

}  // namespace plexus::detail

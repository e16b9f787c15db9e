// The process table: type-stable Process objects in chunks, found by index.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>

#include "plexus/detail/process.h"

namespace plexus::detail {

// Lookup is an array index plus a serial check, never a hash map. Process
// objects are never freed while the table lives (a stale pid may still touch
// one); a freed slot goes to a lock-free free list and comes back with the
// next serial.
class ProcessTable {
 public:
  static constexpr uint32_t kChunkBits = 12;
  static constexpr uint32_t kChunkSize = 1u << kChunkBits;

  explicit ProcessTable(uint32_t capacity);
  ~ProcessTable();
  ProcessTable(const ProcessTable&) = delete;
  ProcessTable& operator=(const ProcessTable&) = delete;

  // The Process in slot `index`, or null if that slot was never allocated.
  Process* get(uint32_t index) const {
    uint32_t chunk = index >> kChunkBits;
    if (chunk >= max_chunks_) return nullptr;
    Process* base = chunks_[chunk].load(std::memory_order_acquire);
    return base ? base + (index & (kChunkSize - 1)) : nullptr;
  }

  // A free slot with a fresh serial (its mailbox still closed), or null when
  // the table is full.
  Process* allocate();
  // Returns an exited process's slot.
  void release(Process* p);

  size_t live() const { return static_cast<size_t>(live_.load(std::memory_order_relaxed)); }
  // Calls f(const Process*) for each slot whose mailbox is open (a live
  // process), from any thread: it reads only what Process shares.
  template <class F>
  void for_each_live(F&& f) const {
    uint32_t chunks = chunk_count_.load(std::memory_order_acquire);
    for (uint32_t c = 0; c < chunks; ++c) {
      const Process* base = chunks_[c].load(std::memory_order_acquire);
      for (uint32_t i = 0; i < kChunkSize; ++i) {
        if (base[i].head.load(std::memory_order_relaxed) != kClosed) f(&base[i]);
      }
    }
  }
  uint32_t allocated_slots() const {
    return chunk_count_.load(std::memory_order_acquire) * kChunkSize;
  }

 private:
  bool grow();
  void push_chain(Process* first, Process* last);

  uint32_t capacity_;
  uint32_t max_chunks_;
  std::unique_ptr<std::atomic<Process*>[]> chunks_;
  std::atomic<uint32_t> chunk_count_{0};
  std::mutex grow_mu_;
  // Free list head: low 32 bits index + 1 (0 = empty), high 32 bits a tag
  // against ABA.
  std::atomic<uint64_t> free_head_{0};
  std::atomic<int64_t> live_{0};
};

}  // namespace plexus::detail

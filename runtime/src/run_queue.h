// A worker's local run queue: the owner pushes, any worker pops (stealing).
#pragma once

#include <atomic>
#include <cstdint>

#include "plexus/detail/process.h"

namespace plexus::detail {

// Bounded single-producer multi-consumer ring. The owner pushes at the tail;
// the owner and thieves take from the head with a CAS, so the owner's order
// is FIFO (fair) and stealing takes the oldest work. 64-bit indices never wrap.
class RunQueue {
 public:
  static constexpr uint32_t kCapacity = 256;

  // Owner only. False if full.
  bool push(Process* p) {
    uint64_t tail = tail_.load(std::memory_order_relaxed);
    uint64_t head = head_.load(std::memory_order_acquire);
    if (tail - head >= kCapacity) return false;
    slots_[tail & (kCapacity - 1)].store(p, std::memory_order_relaxed);
    tail_.store(tail + 1, std::memory_order_release);
    return true;
  }

  // Any thread. Null if empty.
  Process* pop() {
    uint64_t head = head_.load(std::memory_order_acquire);
    for (;;) {
      uint64_t tail = tail_.load(std::memory_order_acquire);
      if (head >= tail) return nullptr;
      Process* p = slots_[head & (kCapacity - 1)].load(std::memory_order_relaxed);
      if (head_.compare_exchange_weak(head, head + 1, std::memory_order_acq_rel,
                                      std::memory_order_acquire))
        return p;
    }
  }

  // Any thread: the processes queued a moment ago (a snapshot of two
  // counters that move on).
  uint64_t size() const {
    uint64_t head = head_.load(std::memory_order_acquire);
    uint64_t tail = tail_.load(std::memory_order_acquire);
    return tail > head ? tail - head : 0;
  }

  bool empty() const {
    return head_.load(std::memory_order_acquire) >= tail_.load(std::memory_order_acquire);
  }

 private:
  alignas(64) std::atomic<uint64_t> head_{0};
  alignas(64) std::atomic<uint64_t> tail_{0};
  std::atomic<Process*> slots_[kCapacity] = {};
};

}  // namespace plexus::detail

// A hierarchical timing wheel: O(1) insert and remove, amortized O(1) expiry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "plexus/detail/envelope.h"
#include "plexus/pid.h"

namespace plexus::detail {

// Six levels of 64 slots; level L slots are 64^L ticks wide, so the wheel
// covers 2^36 ticks. Not thread-safe: the TimerService locks around it.
class TimerWheel {
 public:
  struct Node {
    Node* prev = nullptr;
    Node* next = nullptr;
    int64_t expiry = 0;  // absolute tick
    uint64_t id = 0;
    int level = -1;
    int slot = -1;
    Pid target;
    // A send_after to a registered name: looked up when the timer fires
    // (owned; null for a pid).
    std::string* name = nullptr;
    // A send_after timer, cancelled when its target exits (not a receive
    // timeout, which its process cancels itself).
    bool owned_by_target = false;
    Envelope* envelope = nullptr;
  };

  static constexpr int kLevels = 6;
  static constexpr int kBits = 6;
  static constexpr int kSlots = 1 << kBits;
  static constexpr int64_t kMaxDelta = (int64_t{1} << (kBits * kLevels)) - 1;

  explicit TimerWheel(int64_t now_tick = 0) : current_(now_tick) {}

  // Adds `node` (its expiry set); an expiry in the past fires at the next advance.
  void insert(Node* node);
  void remove(Node* node);
  // Processes every tick up to and including `tick`, appending expired nodes
  // (already removed) to `out`.
  void advance(int64_t tick, std::vector<Node*>& out);
  // A tick at or before which nothing expires (the exact expiry when the next
  // timer is within 64 ticks), or nothing if the wheel is empty.
  std::optional<int64_t> next_event() const;

  size_t size() const { return count_; }
  // Removes every node and returns them (for teardown).
  std::vector<Node*> take_all();

 private:
  void place(Node* node);
  void cascade(int level, int slot);

  Node* slots_[kLevels][kSlots] = {};
  uint64_t occupied_[kLevels] = {};
  int64_t current_;  // the next tick to process
  size_t count_ = 0;
};

}  // namespace plexus::detail

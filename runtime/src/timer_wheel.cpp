#include "timer_wheel.h"

#include <algorithm>
#include <bit>

namespace plexus::detail {

void TimerWheel::insert(Node* node) {
  node->expiry = std::clamp(node->expiry, current_, current_ + kMaxDelta);
  place(node);
  ++count_;
}

void TimerWheel::place(Node* node) {
  int64_t delta = node->expiry - current_;
  int level = 0;
  while (level < kLevels - 1 && delta >= (int64_t{1} << (kBits * (level + 1)))) ++level;
  int slot = static_cast<int>((node->expiry >> (kBits * level)) & (kSlots - 1));
  node->level = level;
  node->slot = slot;
  node->prev = nullptr;
  node->next = slots_[level][slot];
  if (node->next) node->next->prev = node;
  slots_[level][slot] = node;
  occupied_[level] |= uint64_t{1} << slot;
}

void TimerWheel::remove(Node* node) {
  if (node->prev) {
    node->prev->next = node->next;
  } else {
    slots_[node->level][node->slot] = node->next;
    if (!node->next) occupied_[node->level] &= ~(uint64_t{1} << node->slot);
  }
  if (node->next) node->next->prev = node->prev;
  node->prev = node->next = nullptr;
  node->level = node->slot = -1;
  --count_;
}

void TimerWheel::cascade(int level, int slot) {
  Node* node = slots_[level][slot];
  slots_[level][slot] = nullptr;
  occupied_[level] &= ~(uint64_t{1} << slot);
  while (node) {
    Node* next = node->next;
    place(node);
    node = next;
  }
}

void TimerWheel::advance(int64_t tick, std::vector<Node*>& out) {
  while (current_ <= tick) {
    if ((current_ & (kSlots - 1)) == 0) {
      // At a boundary of level 1 (and maybe higher): bring the timers of the
      // slots that start now down, highest level first.
      int top = 1;
      while (top < kLevels - 1 && ((current_ >> (kBits * top)) & (kSlots - 1)) == 0) ++top;
      for (int level = top; level >= 1; --level) {
        cascade(level, static_cast<int>((current_ >> (kBits * level)) & (kSlots - 1)));
      }
    }
    int slot = static_cast<int>(current_ & (kSlots - 1));
    Node* node = slots_[0][slot];
    slots_[0][slot] = nullptr;
    occupied_[0] &= ~(uint64_t{1} << slot);
    while (node) {
      Node* next = node->next;
      node->prev = node->next = nullptr;
      node->level = node->slot = -1;
      --count_;
      out.push_back(node);
      node = next;
    }
    // Skip ticks where nothing can happen: up to the next boundary of the
    // lowest occupied level.
    int lowest = 0;
    while (lowest < kLevels && occupied_[lowest] == 0) ++lowest;
    if (lowest == 0) {
      ++current_;
    } else if (lowest == kLevels) {
      current_ = tick + 1;
    } else {
      int shift = kBits * lowest;
      current_ = std::min(((current_ >> shift) + 1) << shift, tick + 1);
    }
  }
}

std::optional<int64_t> TimerWheel::next_event() const {
  if (count_ == 0) return std::nullopt;
  if (occupied_[0]) {
    int from = static_cast<int>(current_ & (kSlots - 1));
    uint64_t rotated = std::rotr(occupied_[0], from);
    return current_ + std::countr_zero(rotated);
  }
  for (int level = 1; level < kLevels; ++level) {
    if (occupied_[level]) {
      int shift = kBits * level;
      int64_t span = int64_t{1} << shift;
      return (current_ + span - 1) >> shift << shift;  // the next boundary at or after current
    }
  }
  return std::nullopt;
}

std::vector<TimerWheel::Node*> TimerWheel::take_all() {
  std::vector<Node*> all;
  for (int level = 0; level < kLevels; ++level) {
    for (int slot = 0; slot < kSlots; ++slot) {
      for (Node* node = slots_[level][slot]; node;) {
        Node* next = node->next;
        all.push_back(node);
        node = next;
      }
      slots_[level][slot] = nullptr;
    }
    occupied_[level] = 0;
  }
  count_ = 0;
  return all;
}

}  // namespace plexus::detail

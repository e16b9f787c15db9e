// A small open-addressing hash map for the runtime's link and monitor tables.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <utility>

namespace plexus::detail {

// Linear probing with backward-shift deletion (no tombstones), kept at most
// half full. Keys must have an invalid value (`!key.valid()`) that is never
// inserted: it marks empty slots. Empty maps allocate nothing. One slot is a
// key and a value side by side, so a lookup in a large table costs about one
// cache miss (a node-based map costs two or three).
template <class K, class V>
class FlatMap {
 public:
  struct Slot {
    K key{};
    V value{};
  };

  FlatMap() = default;
  FlatMap(const FlatMap&) = delete;
  FlatMap& operator=(const FlatMap&) = delete;

  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }

  // Inserts or keeps the existing entry; true if inserted.
  bool insert(const K& key, V value) {
    if ((size_ + 1) * 2 > capacity_) grow();
    size_t i = find_slot(key);
    if (slots_[i].key.valid()) return false;
    slots_[i] = Slot{key, std::move(value)};
    ++size_;
    return true;
  }

  const V* find(const K& key) const {
    if (size_ == 0) return nullptr;
    const Slot& s = slots_[find_slot(key)];
    return s.key.valid() ? &s.value : nullptr;
  }
  bool contains(const K& key) const { return find(key) != nullptr; }

  // Removes `key`; true if it was there (and *out, if given, gets its value).
  bool erase(const K& key, V* out = nullptr) {
    if (size_ == 0) return false;
    size_t i = find_slot(key);
    if (!slots_[i].key.valid()) return false;
    if (out) *out = std::move(slots_[i].value);
    // Backward shift: pull later entries of the probe run into the hole.
    size_t mask = capacity_ - 1;
    size_t hole = i;
    for (size_t j = (i + 1) & mask; slots_[j].key.valid(); j = (j + 1) & mask) {
      size_t home = hash(slots_[j].key) & mask;
      // Move j into the hole unless its home lies cyclically in (hole, j].
      bool home_between = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
      if (!home_between) {
        slots_[hole] = std::move(slots_[j]);
        hole = j;
      }
    }
    slots_[hole] = Slot{};
    --size_;
    return true;
  }

  template <class F>
  void for_each(F&& f) const {
    for (size_t i = 0; i < capacity_; ++i) {
      if (slots_[i].key.valid()) f(slots_[i].key, slots_[i].value);
    }
  }

 private:
  static size_t hash(const K& key) { return std::hash<K>()(key); }

  size_t find_slot(const K& key) const {
    size_t mask = capacity_ - 1;
    size_t i = hash(key) & mask;
    while (slots_[i].key.valid() && !(slots_[i].key == key)) i = (i + 1) & mask;
    return i;
  }

  void grow() {
    size_t old_capacity = capacity_;
    std::unique_ptr<Slot[]> old = std::move(slots_);
    // Most tables hold one entry (a process with one link or one monitor).
    capacity_ = old_capacity ? old_capacity * 2 : 2;
    slots_ = std::make_unique<Slot[]>(capacity_);
    size_ = 0;
    for (size_t i = 0; i < old_capacity; ++i) {
      if (old[i].key.valid()) {
        slots_[find_slot(old[i].key)] = std::move(old[i]);
        ++size_;
      }
    }
  }

  std::unique_ptr<Slot[]> slots_;
  size_t capacity_ = 0;
  size_t size_ = 0;
};

}  // namespace plexus::detail

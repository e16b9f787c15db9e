// Segments: the fixed partition of a hub's child ids that ownership, digests
// and moves work on.
#pragma once

#include <cstdint>
#include <string_view>

#include "plexus/status.h"

namespace plexus::strategies {

// A hub's child ids fall into `count` segments (a power of two) by their
// stable hash. The count is fixed for a hub's life: members refuse a hub
// whose count differs (docs/hub.md, "Segments").
class Segments {
 public:
  static constexpr uint32_t kDefaultCount = 4096;

  // A power of two from 1 to 2^20; anything else is kInvalidArgument.
  static Result<Segments> make(uint32_t count = kDefaultCount);

  uint32_t count() const { return count_; }
  // The segment of child `id`: in [0, count()).
  uint32_t of(std::string_view id) const { return of_hash(hash(id)); }
  // The same in two steps, for a caller that keeps the hash for an index of
  // its own: of(id) == of_hash(hash(id)).
  static uint64_t hash(std::string_view id);
  uint32_t of_hash(uint64_t hash) const { return static_cast<uint32_t>(hash & (count_ - 1)); }

 private:
  explicit Segments(uint32_t count) : count_(count) {}
  uint32_t count_;
};

}  // namespace plexus::strategies

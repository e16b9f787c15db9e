#include "plexus/strategies/segments.h"

#include <bit>
#include <string>

#include "plexus/strategies/stable_hash.h"

namespace plexus::strategies {

namespace {
constexpr uint32_t kMaxCount = uint32_t{1} << 20;
// Segments and rendezvous weights hash the same bytes for different ends.
constexpr uint64_t kSegmentSeed = 0x5e67e475;
}  // namespace

Result<Segments> Segments::make(uint32_t count) {
  if (count == 0 || count > kMaxCount || !std::has_single_bit(count)) {
    return Status(
        StatusCode::kInvalidArgument,
        "segments must be a power of two from 1 to 1048576, not " + std::to_string(count));
  }
  return Segments(count);
}

uint32_t Segments::of(std::string_view id) const {
  return static_cast<uint32_t>(stable_hash(id, kSegmentSeed) & (count_ - 1));
}

}  // namespace plexus::strategies

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

uint64_t Segments::hash(std::string_view id) { return stable_hash(id, kSegmentSeed); }

}  // namespace plexus::strategies

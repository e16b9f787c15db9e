#include "plexus/strategies/stable_hash.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace plexus::strategies {

uint64_t stable_hash(std::string_view bytes, uint64_t seed) {
  return XXH3_64bits_withSeed(bytes.data(), bytes.size(), seed);
}

}  // namespace plexus::strategies

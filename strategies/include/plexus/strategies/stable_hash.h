// A 64-bit hash that is the same on every machine, compiler and build.
#pragma once

#include <cstdint>
#include <string_view>

namespace plexus::strategies {

// XXH3-64 of `bytes` with `seed` (xxHash 0.8, whose XXH3 output is fixed).
// Placement is computed on every node and must agree: std::hash may differ
// between standard libraries, builds and runs, so it is never used for it.
uint64_t stable_hash(std::string_view bytes, uint64_t seed = 0);

}  // namespace plexus::strategies

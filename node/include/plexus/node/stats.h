// NodeStats: what a node counts of one connection.
#pragma once

#include <cstdint>

namespace plexus {

struct NodeStats {
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t writes = 0;  // write syscalls: frames_out / writes is the coalescing factor
};

}  // namespace plexus

// Rendezvous (highest random weight) hashing of a segment over a view.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "plexus/strategies/view.h"

namespace plexus::strategies {

// The weight of `node` for `segment`: stable on every machine, and depending
// on the node's name only, so a node that restarts gets its segments back.
uint64_t rendezvous_weight(uint32_t segment, std::string_view node);

// The view's members by falling weight for `segment` (ties by name): the
// first is the segment's owner. A member's join moves to it only the
// segments it now heads; a leave moves only the leaver's.
std::vector<const Member*> rendezvous_order(uint32_t segment, const View& view);

// The first `count` of rendezvous_order (all members if there are fewer),
// without sorting the rest.
std::vector<const Member*> rendezvous_first(uint32_t segment, const View& view, size_t count);

}  // namespace plexus::strategies

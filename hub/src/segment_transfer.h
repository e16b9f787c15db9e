// Records by segment, as members swap them when their digests differ.
#pragma once

#include <cstdint>
#include <vector>

#include "hub_state.h"
#include "plexus/hub.pb.h"

namespace plexus::hub::detail {

// Adds this node's records (tombstones too) of `segments` to `out`, and the
// segments to its list.
void add_segments(const HubState& state, const std::vector<uint32_t>& segments,
                  SegmentRecords* out);

class Decider;

// This node's digests of the segments `member` decides in the decider's view
// (those not empty), for a Handoff.
void add_digests(const HubState& state, const Decider& decider, const std::string& member,
                 Handoff* out);

}  // namespace plexus::hub::detail

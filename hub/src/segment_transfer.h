// Records by segment, as members swap them when their digests differ.
#pragma once

#include <cstdint>
#include <vector>

#include "hub_state.h"
#include "plexus/hub.pb.h"

namespace plexus::hub::detail {

// This node's records (tombstones too) of `segments`, in numbered parts
// (message_parts.h) that each start as `header`; `wanted`, the segments the
// sender asks back, goes in the last part.
std::vector<SegmentRecords> segment_parts(const HubState& state,
                                          const std::vector<uint32_t>& segments,
                                          const SegmentRecords& header,
                                          const std::vector<uint32_t>& wanted = {});

class Decider;

// This node's digests of the segments `member` decides in the decider's view
// (those not empty), for a Handoff.
void add_digests(const HubState& state, const Decider& decider, const std::string& member,
                 Handoff* out);

}  // namespace plexus::hub::detail

// Anti-entropy: how two members find the segments in which their registries
// differ, at a cost that does not grow with the number of children.
#pragma once

#include <optional>

#include "hub_state.h"
#include "plexus/hub.pb.h"

namespace plexus::hub::detail {

// The rounds, every sync_interval, with the next member of the view:
//
//   a: summarize()          -> 64 group hashes          -> b
//   b: detail(summary)      -> the segment digests of
//                              the groups that differ   -> a   (nothing if none)
//   a: differing(detail)    -> a's records of the
//                              segments that differ,
//                              and the wish for b's     -> b
//   b: applies them, answers with its own records of those segments (the
//      hub server's handling of SegmentRecords with `wanted`).
//
// While the registries agree a round is one message of 64 hashes.
inline constexpr uint32_t kDigestGroups = 64;

DigestSummary summarize(const HubState& state);
std::optional<DigestSummary> detail(const HubState& state, const DigestSummary& summary);
std::optional<SegmentRecords> differing(const HubState& state, const DigestSummary& detail);

}  // namespace plexus::hub::detail

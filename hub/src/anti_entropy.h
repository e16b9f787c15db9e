// Anti-entropy: how two members find the segments in which their registries
// differ, at a cost that does not grow with the number of children.
#pragma once

#include <optional>
#include <vector>

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

// A segment whose digest moved since the last round is still changing here
// (its deltas are on their way): its records are not swapped until it is
// quiet, so a burst of starts costs no anti-entropy.
class QuietSegments {
 public:
  // Called each round: remembers every digest, and which did not move.
  void round(const HubState& state);
  bool quiet(uint32_t segment) const { return segment < quiet_.size() && quiet_[segment]; }

 private:
  std::vector<SegmentDigest> previous_;
  std::vector<bool> quiet_;
};

DigestSummary summarize(const HubState& state);
std::optional<DigestSummary> detail(const HubState& state, const DigestSummary& summary);
// The records of the segments whose digests differ from `detail`'s and are
// quiet here, and the wish for the peer's, in parts (none if none differ).
std::vector<SegmentRecords> differing(const HubState& state, const DigestSummary& detail,
                                      const QuietSegments& quiet);

}  // namespace plexus::hub::detail

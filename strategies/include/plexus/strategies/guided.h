// Guided: every start call says where each child runs (ProcessHub's Guided).
#pragma once

#include "plexus/strategies/distribution.h"

namespace plexus::strategies {

// A start call must give a child_mapping with an entry for each child, of
// exactly `replicas` nodes. Its errors are ProcessHub's, first word of the
// message (code kInvalidArgument):
//   missing_child_mapping       the call has no mapping
//   invalid_child_mapping       an entry is empty, names a node twice, or
//                               names a node that is not a member
//   child_mapping_mismatch      a child of the call has no entry
//   child_replication_mismatch  an entry's length is not the factor
// The nodes are recorded with the child and never recomputed: a child whose
// nodes have all left runs nowhere until one of them is a member again
// (ProcessHub drops it; docs/hub.md says why Plexus keeps it).
class Guided final : public Distribution {
 public:
  std::string_view name() const override { return "guided"; }
  std::string parameters() const override { return ""; }
  bool records_placement() const override { return true; }
  Status check_start(const std::vector<std::string>& ids, const ChildMapping* mapping, int replicas,
                     const View& view) const override;
  std::vector<std::string> place(const PlacementInput& input) const override;
};

}  // namespace plexus::strategies

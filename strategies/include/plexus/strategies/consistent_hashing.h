// ConsistentHashing: a child runs on the first members of its segment's
// rendezvous order (ProcessHub's default distribution, without its ring).
#pragma once

#include "plexus/strategies/distribution.h"

namespace plexus::strategies {

// Placement from the id and the view alone, so every node computes it and
// none records it. A join moves to the new member about 1/(n+1) of the
// children (the segments it now heads); a leave moves only the leaver's; a
// member that restarts under its name gets the same children back.
class ConsistentHashing final : public Distribution {
 public:
  std::string_view name() const override { return "consistent_hashing"; }
  std::string parameters() const override { return ""; }
  bool records_placement() const override { return false; }
  std::vector<std::string> place(const PlacementInput& input) const override;
};

}  // namespace plexus::strategies

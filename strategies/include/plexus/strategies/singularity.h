// Singularity: one copy of each child (ProcessHub's default redundancy).
#pragma once

#include "plexus/strategies/redundancy.h"

namespace plexus::strategies {

class Singularity final : public Redundancy {
 public:
  std::string_view name() const override { return "singularity"; }
  std::string parameters() const override { return ""; }
  int replication_factor(const View&) const override { return 1; }
};

}  // namespace plexus::strategies

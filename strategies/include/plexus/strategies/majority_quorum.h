// MajorityQuorum: a member keeps its children while it reaches a majority
// of the largest cluster seen (ProcessHub's MajorityQuorum).
#pragma once

#include "plexus/status.h"
#include "plexus/strategies/partition_tolerance.h"

namespace plexus::strategies {

// Quorum while the members reached (the node itself included) number at
// least max_seen / 2 + 1. max_seen starts as initial_cluster_size (or what
// the member reaches at start, if larger and track_max_size) and, with
// track_max_size, grows with every join. It never shrinks by itself: a
// planned scale-down sets it (Hub::reset_cluster_size), or the members left
// lose quorum.
class MajorityQuorum final : public PartitionTolerance {
 public:
  // `initial_cluster_size` must be 1 or more (kInvalidArgument otherwise).
  static Result<MajorityQuorum> make(size_t initial_cluster_size = 1, bool track_max_size = true);

  size_t initial_cluster_size() const { return initial_cluster_size_; }
  bool track_max_size() const { return track_max_size_; }

  std::string_view name() const override { return "majority_quorum"; }
  std::string parameters() const override;  // "initial_cluster_size=3,track_max_size=true"
  bool resizable() const override { return true; }
  bool has_quorum(const MembershipChange& change, QuorumMemory& memory) const override;

 private:
  MajorityQuorum(size_t initial_cluster_size, bool track_max_size)
      : initial_cluster_size_(initial_cluster_size), track_max_size_(track_max_size) {}
  size_t initial_cluster_size_;
  bool track_max_size_;
};

}  // namespace plexus::strategies

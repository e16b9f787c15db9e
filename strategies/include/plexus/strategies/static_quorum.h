// StaticQuorum: a member keeps its children while it reaches at least
// quorum_size members (ProcessHub's StaticQuorum).
#pragma once

#include "plexus/status.h"
#include "plexus/strategies/partition_tolerance.h"

namespace plexus::strategies {

// Quorum while the members reached (the node itself included) number
// quorum_size or more. With startup_confirm a member that starts with
// fewer is in partition mode from the start; without it, only a member that
// loses members counts them.
class StaticQuorum final : public PartitionTolerance {
 public:
  // `quorum_size` must be 1 or more (kInvalidArgument otherwise).
  static Result<StaticQuorum> make(size_t quorum_size, bool startup_confirm = false);

  size_t quorum_size() const { return quorum_size_; }
  bool startup_confirm() const { return startup_confirm_; }

  std::string_view name() const override { return "static_quorum"; }
  std::string parameters() const override;  // "quorum_size=3,startup_confirm=false"
  bool has_quorum(const MembershipChange& change, QuorumMemory& memory) const override;

 private:
  StaticQuorum(size_t quorum_size, bool startup_confirm)
      : quorum_size_(quorum_size), startup_confirm_(startup_confirm) {}
  size_t quorum_size_;
  bool startup_confirm_;
};

}  // namespace plexus::strategies

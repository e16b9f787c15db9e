// DynamicQuorum: a member keeps its children unless it lost more than a
// share of the cluster within threshold_time (ProcessHub's DynamicQuorum).
#pragma once

#include <chrono>

#include "plexus/status.h"
#include "plexus/strategies/partition_tolerance.h"

namespace plexus::strategies {

// Each member lost is remembered for threshold_time (once per member: a
// second loss of one member replaces the first). Quorum while
// 100 - lost * 100 / (reached + lost) >= quorum_percent, with `reached`
// counting the node itself: lost faster than that, and the member is cut
// off. A member that comes back is forgotten. A planned scale-down goes one
// member per threshold_time (or uses MajorityQuorum's resize).
class DynamicQuorum final : public PartitionTolerance {
 public:
  // `quorum_percent` 1 to 100 and a positive `threshold_time`, else
  // kInvalidArgument. ProcessHub's default threshold_time is 30 s.
  static Result<DynamicQuorum> make(
      int quorum_percent, std::chrono::milliseconds threshold_time = std::chrono::seconds(30));

  int quorum_percent() const { return quorum_percent_; }
  std::chrono::milliseconds threshold_time() const { return threshold_time_; }

  std::string_view name() const override { return "dynamic_quorum"; }
  std::string parameters() const override;  // "quorum_percent=80,threshold_time_ms=30000"
  bool has_quorum(const MembershipChange& change, QuorumMemory& memory) const override;

 private:
  DynamicQuorum(int quorum_percent, std::chrono::milliseconds threshold_time)
      : quorum_percent_(quorum_percent), threshold_time_(threshold_time) {}
  int quorum_percent_;
  std::chrono::milliseconds threshold_time_;
};

}  // namespace plexus::strategies

#include "plexus/strategies/partition_tolerance.h"

#include <algorithm>

#include "plexus/strategies/dynamic_quorum.h"
#include "plexus/strategies/majority_quorum.h"
#include "plexus/strategies/static_quorum.h"

namespace plexus::strategies {

namespace {
Status invalid(std::string what) { return Status(StatusCode::kInvalidArgument, std::move(what)); }
std::string_view yes_no(bool b) { return b ? "true" : "false"; }
}  // namespace

std::string describe(const PartitionTolerance& strategy) {
  return std::string(strategy.name()) + "(" + strategy.parameters() + ")";
}

// ---- StaticQuorum

Result<StaticQuorum> StaticQuorum::make(size_t quorum_size, bool startup_confirm) {
  if (quorum_size == 0) return invalid("static quorum: quorum_size must be 1 or more, not 0");
  return StaticQuorum(quorum_size, startup_confirm);
}

std::string StaticQuorum::parameters() const {
  return "quorum_size=" + std::to_string(quorum_size_) +
         ",startup_confirm=" + std::string(yes_no(startup_confirm_));
}

bool StaticQuorum::has_quorum(const MembershipChange& change, QuorumMemory&) const {
  if (change.kind == MembershipChange::kStart && !startup_confirm_) return true;
  return change.reached >= quorum_size_;
}

// ---- DynamicQuorum

Result<DynamicQuorum> DynamicQuorum::make(int quorum_percent,
                                          std::chrono::milliseconds threshold_time) {
  if (quorum_percent < 1 || quorum_percent > 100) {
    return invalid("dynamic quorum: quorum_percent must be 1 to 100, not " +
                   std::to_string(quorum_percent));
  }
  if (threshold_time.count() <= 0) {
    return invalid("dynamic quorum: threshold_time must be positive, not " +
                   std::to_string(threshold_time.count()) + " ms");
  }
  return DynamicQuorum(quorum_percent, threshold_time);
}

std::string DynamicQuorum::parameters() const {
  return "quorum_percent=" + std::to_string(quorum_percent_) +
         ",threshold_time_ms=" + std::to_string(threshold_time_.count());
}

bool DynamicQuorum::has_quorum(const MembershipChange& change, QuorumMemory& memory) const {
  auto& down = memory.down;
  std::erase_if(down, [&](const auto& entry) {
    return change.now_ms - entry.second > threshold_time_.count() || entry.first == change.node;
  });
  if (change.kind == MembershipChange::kDown) down.emplace_back(change.node, change.now_ms);
  double lost = static_cast<double>(down.size());
  double share = 100.0 - lost * 100.0 / (static_cast<double>(change.reached) + lost);
  return share >= quorum_percent_;
}

// ---- MajorityQuorum

Result<MajorityQuorum> MajorityQuorum::make(size_t initial_cluster_size, bool track_max_size) {
  if (initial_cluster_size == 0) {
    return invalid("majority quorum: initial_cluster_size must be 1 or more, not 0");
  }
  return MajorityQuorum(initial_cluster_size, track_max_size);
}

std::string MajorityQuorum::parameters() const {
  return "initial_cluster_size=" + std::to_string(initial_cluster_size_) +
         ",track_max_size=" + std::string(yes_no(track_max_size_));
}

bool MajorityQuorum::has_quorum(const MembershipChange& change, QuorumMemory& memory) const {
  switch (change.kind) {
    case MembershipChange::kStart:
      memory.max_seen = initial_cluster_size_;
      [[fallthrough]];
    case MembershipChange::kUp:
      if (track_max_size_) memory.max_seen = std::max(memory.max_seen, change.reached);
      break;
    case MembershipChange::kResize:
      memory.max_seen = std::max<size_t>(1, change.size);
      break;
    case MembershipChange::kDown:
      break;
  }
  return change.reached >= memory.max_seen / 2 + 1;
}

}  // namespace plexus::strategies

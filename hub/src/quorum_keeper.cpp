#include "quorum_keeper.h"

#include <algorithm>
#include <vector>

namespace plexus::hub::detail {

using strategies::MembershipChange;

QuorumKeeper::Turn QuorumKeeper::take(const MembershipChange& change) {
  bool quorum = strategy_.has_quorum(change, memory_);
  bool may_enter = change.kind != MembershipChange::kUp;
  bool may_leave = change.kind == MembershipChange::kUp || change.kind == MembershipChange::kResize;
  if (!partitioned_ && !quorum && may_enter) {
    partitioned_ = true;
    return Turn::kEntered;
  }
  if (partitioned_ && quorum && may_leave) {
    partitioned_ = false;
    return Turn::kLeft;
  }
  return Turn::kNone;
}

QuorumKeeper::Turn QuorumKeeper::start(int64_t now_ms) {
  kept_.clear();
  return take({MembershipChange::kStart, "", reached(), now_ms});
}

QuorumKeeper::Turn QuorumKeeper::set_kept(const std::set<std::string>& kept, int64_t now_ms) {
  std::vector<std::string> lost, joined;
  std::set_difference(kept_.begin(), kept_.end(), kept.begin(), kept.end(),
                      std::back_inserter(lost));
  std::set_difference(kept.begin(), kept.end(), kept_.begin(), kept_.end(),
                      std::back_inserter(joined));
  bool was = partitioned_;
  for (const std::string& node : lost) {
    kept_.erase(node);
    take({MembershipChange::kDown, node, reached(), now_ms});
  }
  for (const std::string& node : joined) {
    kept_.insert(node);
    take({MembershipChange::kUp, node, reached(), now_ms});
  }
  if (was == partitioned_) return Turn::kNone;
  return partitioned_ ? Turn::kEntered : Turn::kLeft;
}

bool QuorumKeeper::view_has_quorum(size_t members, int64_t now_ms) const {
  strategies::QuorumMemory copy = memory_;
  return strategy_.has_quorum({MembershipChange::kUp, "", members, now_ms}, copy);
}

QuorumKeeper::Turn QuorumKeeper::resize(size_t size, int64_t now_ms) {
  return take({MembershipChange::kResize, "", reached(), now_ms, size});
}

}  // namespace plexus::hub::detail

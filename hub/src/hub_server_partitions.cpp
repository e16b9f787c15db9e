// HubServer: partition mode and fences, with a quorum strategy
// (hub_server.h; docs/hub.md, "Partitions: quorum").
#include "hub_server.h"
#include "plexus/strategies/partition_tolerance.h"

namespace plexus::hub::detail {

void HubServer::count_quorum(const std::set<std::string>& kept) {
  if (!s_.config.partition_tolerance->uses_quorum()) return;
  quorum_turned(quorum_.set_kept(kept, self().runtime().now_ms()));
}

void HubServer::quorum_turned(QuorumKeeper::Turn turn) {
  if (turn == QuorumKeeper::Turn::kEntered && !s_.partitioned()) enter_partition_mode();
  if (turn == QuorumKeeper::Turn::kLeft) try_leave_partition_mode(decider_.view().size(), true);
}

void HubServer::quorum_view(const strategies::View& next) {
  if (!s_.config.partition_tolerance->uses_quorum()) return;
  int64_t now = self().runtime().now_ms();
  if (!s_.partitioned()) {
    // A view that loses members without quorum: this side is the minority
    // even if it reaches more (a cut undone while the others still cut it).
    if (next.number() > 0 && next.size() < decider_.view().size() &&
        !quorum_.view_has_quorum(next.size(), now)) {
      enter_partition_mode();
    }
    return;
  }
  try_leave_partition_mode(next.size(), false);
}

void HubServer::try_leave_partition_mode(size_t view_size, bool renew_view) {
  // Out only with quorum both in what it reaches and in the view its
  // decider acts in: a member alone in its view decides every segment.
  if (!s_.partitioned() || quorum_.partitioned() ||
      !quorum_.view_has_quorum(view_size, self().runtime().now_ms())) {
    return;
  }
  leave_partition_mode(renew_view);
}

void HubServer::enter_partition_mode() {
  self().runtime().log(LogLevel::kWarning, [&] {
    return "hub " + s_.config.hub_id + ": partition mode: this node reaches " +
           std::to_string(quorum_.reached()) + " members, no quorum for " +
           strategies::describe(*s_.config.partition_tolerance) + "; its " +
           std::to_string(supervisor_->size()) + " children stop, starts and stops fail";
  });
  s_.set_partitioned(true);
  for (const std::string& id : supervisor_->ids()) {
    supervisor_->halt(id, s_.config.partition_stop_timeout);
  }
}

void HubServer::leave_partition_mode(bool renew_view) {
  self().runtime().log(LogLevel::kInfo, [&] {
    return "hub " + s_.config.hub_id + ": out of partition mode: this node reaches " +
           std::to_string(quorum_.reached()) + " members";
  });
  s_.set_partitioned(false);
  if (renew_view && !leaving_) {
    renew();
    membership_changed();
  }
}

void HubServer::fence_lost(const strategies::View& next) {
  if (!s_.config.partition_tolerance->uses_quorum()) return;
  for (const strategies::Member& m : decider_.view().members()) {
    if (next.contains(m.node) || m.node == s_.self.node) continue;
    if (known_.count(m.node)) {
      start_fence(m.node);
    } else {
      // It left on purpose, its children stopped first.
      fences_.erase(m.node);
      unfenced_.insert(m.node);
    }
  }
  for (const strategies::Member& m : next.members()) {
    fences_.erase(m.node);
    unfenced_.erase(m.node);
  }
}

void HubServer::start_fence(const std::string& node) {
  uint64_t generation = ++fence_generation_;
  fences_[node] = generation;
  unfenced_.erase(node);
  self().runtime().log(LogLevel::kInfo, [&] {
    return "hub " + s_.config.hub_id + ": lost " + node + "; what it ran starts again after " +
           std::to_string(s_.config.fence_margin.count()) +
           " ms (fence_margin), once it has stopped it if it is cut off";
  });
  self().runtime().send_after(self().self(), s_.config.fence_margin, FenceDue{node, generation});
}

void HubServer::on_fence_due(const FenceDue& due) {
  auto it = fences_.find(due.node);
  if (it == fences_.end() || it->second != due.generation) return;
  fences_.erase(it);
  unfenced_.insert(due.node);
  debug(s_, [&] { return "the fence of " + due.node + " lifts"; });
  // The next view's round reconciles what the fence held.
  if (!leaving_ && !s_.partitioned()) {
    renew();
    membership_changed();
  }
}

bool HubServer::fenced(const std::string& node) {
  if (!s_.config.partition_tolerance->uses_quorum() || node.empty()) return false;
  if (fences_.count(node)) return true;
  if (unfenced_.count(node)) return false;
  // A member this node never saw lost (it joined after): as if lost now.
  start_fence(node);
  return true;
}

}  // namespace plexus::hub::detail

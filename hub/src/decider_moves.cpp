// Decider: graceful drains and hot swaps (decider.h; docs/hub.md,
// "Migration"); starts and stops are in decider.cpp, views and the
// reconcile in decider_round.cpp.
#include "decider.h"

namespace plexus::hub::detail {

void Decider::drain_member(const strategies::Member& member) {
  const strategies::Member* in_view = view_.find(member.node);
  if (!in_view || in_view->creation != member.creation || !draining_.insert(member).second) return;
  std::vector<strategies::Member> staying;
  for (const strategies::Member& m : view_.members()) {
    if (!draining_.count(m)) staying.push_back(m);
  }
  placing_view_ = strategies::View(view_.number(), std::move(staying));
  // In a round, the reconcile at its end places without it.
  if (!ready_) return;
  for (const RecordPtr& r : state_.registry.live()) {
    if (decides(r->segment)) move_off_draining(r->id);
  }
}

void Decider::move_off_draining(const std::string& id) {
  if (draining_.empty() || !ready_ || ops_.count(id) || state_.partitioned()) return;
  RecordPtr r = state_.registry.find_live(id);
  if (!r || !decides(r->segment)) return;
  for (Pid pid : r->pids) {
    const strategies::Member* m = view_.find(state_.node_of(pid));
    if (m && draining_.count(*m)) {
      reconcile_one(id, claims_of(r), nullptr);
      return;
    }
  }
}

bool Decider::swap_waits(const std::string& id, Op& op) {
  Op::Swap& swap = *op.swap;
  auto target = op.copies.find(op.places.front());
  if (target == op.copies.end()) {
    call_swap_off(id, op, "the new copy did not start");
    return false;
  }
  if (!swap.asked) {
    swap.asked = true;
    port_.hand_over(swap.node, id, swap.move, target->second, op.places.front());
  }
  return true;
}

void Decider::call_swap_off(const std::string& id, Op& op, const std::string& why) {
  Op::Swap swap = std::move(*op.swap);
  op.swap.reset();
  state_.counters.handovers_called_off.fetch_add(1, std::memory_order_relaxed);
  state_.node.runtime().log(LogLevel::kWarning, "hub " + state_.config.hub_id + ": child " + id +
                                                    " stays on " + swap.node +
                                                    ": its handover was called off: " + why);
  for (const auto& [node, pid] : op.copies) {
    if (op.halting.insert(node).second) port_.halt_on(node, id);
  }
  op.copies.clear();
  op.places.clear();
  op.moved_from.clear();
  port_.end_move(id);
  RecordPtr r = state_.registry.find_live(id);
  if (!r) return;
  if (swap.pid) {
    // The copy that stays restarted meanwhile: the record names its new pid.
    std::vector<Pid> pids = r->pids.to_vector();
    for (Pid& p : pids) {
      if (state_.node_of(p) == swap.node && p != swap.pid) {
        p = swap.pid;
        r = version(*r, pids, false);
        port_.publish(r);
        break;
      }
    }
  } else {
    op.given_up = true;  // it ended for good meanwhile
  }
  finish_start(op, r);  // starts that joined the move get the child as it is
}

void Decider::handed_over(const std::string& from, const HandedOver& answer) {
  if (answer.view() != view_.number()) return;
  auto it = ops_.find(answer.id());
  if (it == ops_.end() || !it->second.swap || it->second.swap->move != answer.move() ||
      it->second.swap->done) {
    return;
  }
  Op& op = it->second;
  // The old copy's node calls it off before the state leaves it; the new
  // copy's node says the copy has it, or that the copy is gone (the state
  // left the old copy, which only forwards now: the child is given up).
  const bool from_old = from == op.swap->node;
  const bool from_new = from == op.places.front();
  if (answer.called_off() && (from_old || from_new)) {
    call_swap_off(answer.id(), op, answer.reason());
    if (from_new) op.given_up = true;
  } else if (!answer.called_off() && from_new) {
    op.swap->done = true;
  } else {
    return;
  }
  advance(answer.id());
}

void Decider::handover_due(const std::string& id, uint64_t move) {
  auto it = ops_.find(id);
  if (it == ops_.end() || !it->second.swap) return;
  Op::Swap& swap = *it->second.swap;
  if (swap.move != move || swap.done || swap.calling_off) return;
  swap.calling_off = true;
  port_.call_off(swap.node, id, move);
}

}  // namespace plexus::hub::detail

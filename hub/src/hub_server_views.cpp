// HubServer: finding members, and the views (hub_server.h).
#include <algorithm>
#include <set>

#include "hub_server.h"
#include "message_parts.h"
#include "plexus/pid.pb.h"
#include "record_codec.h"
#include "segment_transfer.h"

namespace plexus::hub::detail {

// ---- Membership and views

void HubServer::hello(const std::string& node, bool answer) {
  HubHello h;
  set_from(h.mutable_from());
  h.set_signature(s_.signature);
  encode(keeper_.view(), h.mutable_view());
  h.set_answer(answer);
  send_to(node, std::move(h));
}

void HubServer::greet(const std::string& node) {
  if (node == s_.self.node) return;
  hello(node, true);
  if (!greeted_.count(node)) greeted_[node] = self().monitor(s_.server_name, node);
}

void HubServer::greeted(const std::string& node) {
  auto it = greeted_.find(node);
  if (it == greeted_.end()) return;
  self().demonitor(it->second, Flush::kYes);
  greeted_.erase(it);
}

uint32_t HubServer::node_number(const strategies::Member& member) {
  PidProto p;
  p.set_node(member.node);
  p.set_creation(member.creation);
  p.set_serial(1);
  Result<Pid> pid = s_.node.from_proto(p);
  return pid.ok() ? pid->node : 0;
}

void HubServer::on_hello(const HubHello& h) {
  const std::string& node = h.from().node();
  if (leaving_ || node.empty() || node == s_.self.node) return;
  if (h.signature() != s_.signature) {
    self().runtime().log(LogLevel::kError, "hub " + s_.config.hub_id + ": refused " + node +
                                               ": its configuration is '" + h.signature() +
                                               "', this node's is '" + s_.signature + "'");
    HubRefused refused;
    set_from(refused.mutable_from());
    refused.set_signature(s_.signature);
    refused.set_reason("hub " + s_.config.hub_id + " on " + s_.self.node + " has '" + s_.signature +
                       "', not '" + h.signature() + "'");
    send_to(node, std::move(refused));
    return;
  }
  strategies::Member member{node, h.from().creation()};
  greeted(node);
  known_.insert(node);
  auto [it, fresh] = members_.try_emplace(node, member);
  if (!fresh && it->second.creation != member.creation) {
    if (uint32_t old = node_number(it->second)) s_.live.set_down(old);
    it->second = member;
    fresh = true;
  }
  if (uint32_t n = node_number(member)) s_.live.set_up(n);
  mark_unheard(member);
  if (fresh) {
    // A member of this view that comes back lost the connection for a
    // while: the view is made again, so nothing lost with it is missed.
    if (lost_.erase(node) && keeper_.view().contains(node)) renew();
    membership_changed();
  }
  feed_keeper();
  // It may not have this node's report (new, or its hub started again).
  send_report(node);
  regroup_later();
  if (h.answer()) hello(node, false);
  Result<strategies::View> view = decode(h.view());
  if (view.ok() && keeper_.receive(*view)) adopt(keeper_.view());
}

void HubServer::on_view(const HubView& msg) {
  Result<strategies::View> view = decode(msg.view());
  if (!view.ok()) return;
  if (keeper_.receive(*view)) {
    adopt(keeper_.view());
    return;
  }
  if (msg.refusal()) {
    // A member shows its view. Behind: it gets this one. As high or higher
    // (two claimants numbered alike, or a view of a claimant since gone):
    // the claimant numbers a new view above it.
    if (!keeper_.is_claimant()) return;
    const strategies::View& mine = keeper_.view();
    if (view->number() < mine.number()) {
      send_view(msg.from().node(), false);
    } else if (view->number() != mine.number() || view->members() != mine.members()) {
      keeper_.renew();
      membership_changed();
    }
    return;
  }
  // A proposal not adopted, numbered as low as ours: its claimant must
  // learn of ours, or two views of one number could stand for good.
  if (view->number() <= keeper_.view().number()) send_view(msg.from().node(), true);
  if (keeper_.is_claimant()) membership_changed();
}

void HubServer::send_view(const std::string& node, bool refusal) {
  HubView v;
  set_from(v.mutable_from());
  encode(keeper_.view(), v.mutable_view());
  v.set_refusal(refusal);
  send_to(node, std::move(v));
}

void HubServer::on_refused(const HubRefused& refused) {
  greeted(refused.from().node());
  std::string why = "refused by " + refused.from().node() + ": " + refused.reason();
  self().runtime().log(LogLevel::kError, "hub " + s_.config.hub_id + ": " + why);
  s_.set_refusal(std::move(why));
}

void HubServer::renew() {
  if (keeper_.is_claimant()) {
    keeper_.renew();
    return;
  }
  HubRenew r;
  set_from(r.mutable_from());
  r.set_view(keeper_.view().number());
  send_to(keeper_.reachable().front().node, std::move(r));
}

void HubServer::member_gone(const std::string& node) {
  auto it = members_.find(node);
  if (it == members_.end()) return;
  if (uint32_t n = node_number(it->second)) s_.live.set_down(n);
  if (keeper_.view().contains(node)) lost_.insert(node);
  members_.erase(it);
  halt_waiters_.erase(node);
  reach_.forget(node);
  cut_.erase(node);
  feed_keeper();
  regroup_later();
  membership_changed();
  gossip_lost(node);
  calls_->decider_lost(node);
}

void HubServer::regroup_later() {
  if (regroup_pending_) return;
  regroup_pending_ = true;
  self().send(self().self(), Regroup{});
}

void HubServer::regroup() {
  regroup_pending_ = false;
  std::set<std::string> reached;
  for (const auto& [node, member] : members_) reached.insert(node);
  reach_.set_own(reached);
  if (reach_.take_report()) report_due_ = true;
  std::set<std::string> kept = reach_.kept();
  std::set<std::string> to_cut;
  for (const std::string& node : reached) {
    if (!kept.count(node)) to_cut.insert(node);
  }
  if (to_cut != to_cut_) {
    to_cut_ = std::move(to_cut);
    ++cut_generation_;
    if (!std::includes(cut_.begin(), cut_.end(), to_cut_.begin(), to_cut_.end())) {
      self().runtime().send_after(self().self(), s_.config.partition_cut_delay,
                                  CutDue{cut_generation_});
    }
  }
  // Undone at once: what is no longer asked for, and who is gone.
  std::erase_if(cut_, [&](const std::string& n) { return !to_cut_.count(n); });
  if (feed_keeper() || report_due_) membership_changed();
}

void HubServer::on_cut_due(uint64_t generation) {
  if (generation != cut_generation_ || cut_ == to_cut_) return;
  self().runtime().log(LogLevel::kWarning, [&] {
    std::string cut;
    for (const std::string& n : to_cut_) cut += " " + n;
    return "hub " + s_.config.hub_id + ": cuts itself off from" + cut +
           " (they do not reach every member this node keeps: a non-transitive partition)";
  });
  cut_ = to_cut_;
  if (feed_keeper()) membership_changed();
}

bool HubServer::feed_keeper() {
  std::vector<strategies::Member> kept;
  std::set<std::string> names;
  for (const auto& [node, member] : members_) {
    if (!cut_.count(node)) {
      kept.push_back(member);
      names.insert(node);
    }
  }
  bool changed = keeper_.set_reachable(std::move(kept));
  count_quorum(names);
  return changed;
}

void HubServer::on_reach(const HubReach& msg) {
  ReachReport report;
  report.from = {msg.from().node(), msg.from().creation()};
  report.version = msg.version();
  report.reaches.insert(msg.reaches().begin(), msg.reaches().end());
  report.group.insert(msg.group().begin(), msg.group().end());
  if (reach_.receive(report)) regroup_later();
}

void HubServer::send_report(const std::string& node) {
  const ReachReport& r = reach_.last_report();
  HubReach msg;
  set_from(msg.mutable_from());
  msg.set_version(r.version);
  for (const std::string& n : r.reaches) msg.add_reaches(n);
  for (const std::string& n : r.group) msg.add_group(n);
  send_to(node, std::move(msg));
}

void HubServer::membership_changed() {
  // One view for a burst of changes: the last one's timer proposes.
  self().runtime().send_after(self().self(), s_.config.view_debounce,
                              Propose{++propose_generation_});
}

void HubServer::on_propose(uint64_t generation) {
  if (generation != propose_generation_ || leaving_) return;
  if (report_due_) {
    report_due_ = false;
    for (const auto& [node, member] : members_) send_report(node);
  }
  if (!keeper_.is_claimant()) {
    // Membership is quiet and this view is not what this node reaches: the
    // claimant may not know (the view came from a claimant since lost).
    if (keeper_.view().members() != keeper_.reachable()) {
      send_view(keeper_.reachable().front().node, true);
    }
    return;
  }
  std::optional<strategies::View> view = keeper_.propose();
  if (!view) return;
  HubView msg;
  set_from(msg.mutable_from());
  encode(*view, msg.mutable_view());
  for (const strategies::Member& m : view->members()) {
    if (m.node != s_.self.node) send_to(m.node, HubView(msg));
  }
  adopt(*view);
}

void HubServer::adopt(const strategies::View& view) {
  // The members it adds and removes, for the hooks.
  std::vector<std::string> joined, left;
  for (const auto& m : view.members()) {
    if (!decider_.view().contains(m.node)) joined.push_back(m.node);
  }
  for (const auto& m : decider_.view().members()) {
    if (!view.contains(m.node)) left.push_back(m.node);
  }
  if (!joined.empty()) hook(HookEvent::kPreNodeJoin, NodeJoin{joined});
  if (!left.empty()) hook(HookEvent::kPreNodeLeave, NodeLeave{left});
  hook(HookEvent::kPreRedistribution, Redistribution{view.number(), {}});
  reported_ready_ = false;
  debug(s_, [&] {
    std::string members;
    for (const auto& m : view.members()) members += " " + m.node;
    return "adopts view " + std::to_string(view.number()) + ":" + members;
  });
  fence_lost(view);
  quorum_view(view);
  s_.set_view(view);
  s_.counters.views.fetch_add(1, std::memory_order_relaxed);
  moves_adopt_view(view);
  std::set<std::string> in_view;
  for (const strategies::Member& m : view.members()) in_view.insert(m.node);
  reach_.set_first(std::move(in_view));
  decider_.adopt(view);
  calls_->view_changed();
  // A round that a lost message keeps from ending is run again in a new
  // view after migr_base_timeout.
  self().runtime().send_after(self().self(), s_.config.migr_base_timeout,
                              RoundTimeout{view.number()});
  // Members this node reaches that the view leaves out learn its number, so
  // their claimant numbers its next view above it.
  for (const auto& [node, member] : members_) {
    if (!view.contains(node)) send_view(node, true);
  }
  for (const strategies::Member& m : view.members()) {
    if (m.node == s_.self.node) continue;
    send_parts(m.node, handoff_for(m.node));
  }
  std::vector<Claim> own;
  for (LocalSupervisor::Copy& c : claimed()) {
    own.push_back(
        {c.node.empty() ? s_.self.node : c.node, std::move(c.record), c.pid, c.awaits_state});
  }
  decider_.own_handoff(own, supervisor_->ended(), saved_for(s_.self.node));
  if (!joined.empty()) hook(HookEvent::kPostNodeJoin, NodeJoin{joined});
  if (!left.empty()) hook(HookEvent::kPostNodeLeave, NodeLeave{left});
  regroup_later();  // the view orders the cut
}

std::vector<LocalSupervisor::Copy> HubServer::claimed() const {
  std::vector<LocalSupervisor::Copy> copies = supervisor_->running();
  // A copy this node handed a child over to is the child, though it may
  // not have the state yet (it is on its way from here, first on the
  // connection): it must not be taken for a waiting target and halted.
  for (const auto& [id, handed] : handed_) {
    if (!supervisor_->running_pid(id)) copies.push_back(handed.to);
  }
  return copies;
}

std::vector<Handoff> HubServer::handoff_for(const std::string& member) {
  Handoff header;
  set_from(header.mutable_from());
  header.set_view(decider_.view().number());
  PartCutter<Handoff> cutter(s_.part_bytes, std::move(header));
  for (const LocalSupervisor::Copy& c : claimed()) {
    if (decider_.owner(c.record->segment) != member) continue;
    ClaimProto* claim = cutter.current().add_running();
    encode(*c.record, s_.node, claim->mutable_record());
    s_.node.to_proto(c.pid, claim->mutable_pid());
    if (!c.node.empty()) claim->set_node(c.node);
    claim->set_awaits_state(c.awaits_state);
    cutter.added(claim->ByteSizeLong());
  }
  for (const RecordPtr& r : supervisor_->ended()) {
    if (decider_.owner(r->segment) != member) continue;
    ChildRecordProto* ended = cutter.current().add_ended();
    encode(*r, s_.node, ended);
    cutter.added(ended->ByteSizeLong());
  }
  for (const SavedState& saved : saved_for(member)) {
    SavedStateProto* p = cutter.current().add_saved();
    p->set_id(saved.id);
    p->set_epoch(saved.epoch);
    p->set_stamp(saved.stamp);
    p->set_state(*saved.state);
    cutter.added(p->ByteSizeLong());
  }
  add_digests(s_, decider_, member, &cutter.last());
  for (const auto& [segment, node] : decider_.fenced_segments()) {
    if (decider_.owner(segment) != member) continue;
    FencedSegmentProto* f = cutter.last().add_fenced();
    f->set_segment(segment);
    f->set_node(node);
  }
  return std::move(cutter).numbered();
}

}  // namespace plexus::hub::detail

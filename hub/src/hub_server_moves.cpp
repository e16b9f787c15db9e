// HubServer: hot swaps (hub_server.h; docs/hub.md, "Migration"). Three
// parts: every member holds what Hub::send sends a moving child; the node
// of the copy that moves has it hand its state over once every member
// holds; the node of the new copy gives it the state.
#include <algorithm>
#include <map>
#include <utility>

#include "hub_server.h"
#include "move_buffer.h"
#include "plexus/hub/handover.h"
#include "plexus/pid.pb.h"

namespace plexus::hub::detail {

// ---- The decider's side (DeciderPort)

void HubServer::begin_move(const std::string& id, const std::string& from, uint64_t move) {
  debug(s_, [&] { return "moves " + id + " from " + from + " (hot swap)"; });
  MoveProto m;
  m.set_id(id);
  m.set_from(from);
  m.set_move(move);
  moves_begun_.push_back(std::move(m));
}

void HubServer::hand_over(const std::string& from, const std::string& id, uint64_t move, Pid to,
                          const std::string& to_node) {
  HandOver h;
  h.set_from(s_.self.node);
  h.set_view(decider_.view().number());
  h.set_id(id);
  h.set_move(move);
  s_.node.to_proto(to, h.mutable_to());
  h.set_to_node(to_node);
  self().runtime().send_after(self().self(), s_.config.migr_base_timeout, HandoverDue{id, move});
  send_or_handle(from, std::move(h), &HubServer::on_hand_over);
}

void HubServer::call_off(const std::string& from, const std::string& id, uint64_t move) {
  CallOffHandover c;
  c.set_from(s_.self.node);
  c.set_view(decider_.view().number());
  c.set_id(id);
  c.set_move(move);
  send_or_handle(from, std::move(c), &HubServer::on_call_off);
}

void HubServer::end_move(const std::string& id) { moves_ended_.push_back(id); }

bool HubServer::send_moves() {
  if (moves_begun_.empty() && moves_ended_.empty()) return false;
  MoveBegin begin;
  begin.set_from(s_.self.node);
  begin.set_view(decider_.view().number());
  for (MoveProto& m : moves_begun_) *begin.add_moves() = std::move(m);
  moves_begun_.clear();
  MoveEnd end;
  end.set_from(s_.self.node);
  end.set_view(decider_.view().number());
  for (std::string& id : moves_ended_) end.add_ids(std::move(id));
  moves_ended_.clear();
  // A move's begin and its end go on one connection, in that order.
  for (const strategies::Member& m : decider_.view().members()) {
    if (m.node == s_.self.node) continue;
    if (begin.moves_size() > 0) send_to(m.node, MoveBegin(begin));
    if (end.ids_size() > 0) send_to(m.node, MoveEnd(end));
  }
  on_move_begin(begin);
  on_move_end(end);
  return true;
}

// ---- Every member: holding the messages of moving children

bool HubServer::decides_in_view(const std::string& node, const std::string& id) const {
  return decider_.owner(s_.registry.segments().of(id)) == node;
}

void HubServer::on_move_begin(const MoveBegin& begin) {
  if (begin.view() != decider_.view().number()) return;
  std::map<std::string, MoveFenced> fences;  // by the node whose copy moves
  for (const MoveProto& m : begin.moves()) {
    if (!decides_in_view(begin.from(), m.id())) continue;
    // Its commit came first, another way (anti-entropy): the move is over.
    if (RecordPtr r = s_.registry.find(m.id()); r && r->epoch > m.move()) continue;
    hold(m.id(), m.move(), m.from());
    MoveFenced& f = fences[m.from()];
    f.add_moves(m.move());
    f.add_ids(m.id());
  }
  for (auto& [node, f] : fences) {
    f.set_from(s_.self.node);
    f.set_view(begin.view());
    send_or_handle(node, std::move(f), &HubServer::on_fenced);
  }
}

void HubServer::hold(const std::string& id, uint64_t move, const std::string& from) {
  if (!holding_.count(id)) {
    // Taking the shard exclusively is the fence: every Hub::send to it
    // that found no hold has sent, ahead of what this node sends next.
    s_.registry.set_moving(id, std::make_shared<MoveBuffer>(s_.config.handover_buffer));
  }
  holding_[id] = Hold{move, from};
}

void HubServer::on_move_end(const MoveEnd& end) {
  if (end.view() != decider_.view().number()) return;
  for (const std::string& id : end.ids()) {
    if (decides_in_view(end.from(), id)) end_hold(id);
  }
}

void HubServer::end_hold(const std::string& id) {
  auto h = holding_.find(id);
  if (h == holding_.end()) return;
  RecordPtr r = s_.registry.find_live(id);
  Pid to = r ? s_.first_served(*r) : Pid{};
  if (r && !to) {
    // Its copies' nodes are gone (the move ended with a view change): held
    // until a record names a copy that is served.
    h->second.move = 0;
    return;
  }
  holding_.erase(h);
  std::shared_ptr<MoveBuffer> buffer = s_.registry.moving(id);
  if (!buffer) return;
  size_t dropped = 0;
  size_t sent = buffer->release(self(), to, &dropped);
  s_.registry.clear_moving(id);
  s_.counters.messages_held.fetch_add(sent, std::memory_order_relaxed);
  if (dropped > 0) {
    self().runtime().log(LogLevel::kWarning,
                         "hub " + s_.config.hub_id + ": " + std::to_string(dropped) +
                             " messages held for child " + id + " were dropped: it was stopped");
  }
}

void HubServer::moves_adopt_view(const strategies::View& view) {
  // The deciders' moves are over with their view: what was asked waits for
  // the copy's answer, to turn it down; the rest is forgotten. From here no
  // copy on this node hands a child over in a move of an older view.
  for (auto it = outgoing_.begin(); it != outgoing_.end();) {
    if (it->second.asked) {
      it->second.called_off = true;
      ++it;
    } else {
      it = outgoing_.erase(it);
    }
  }
  // A hold ends where the old copy is still the child. Where it handed the
  // child over, what was held must not go to the old copy, which forwards
  // only until it is halted (and through a detour a later direct send
  // could overtake): it waits for a newer version (apply()).
  std::map<std::string, HoldQuery> queries;  // by the old copy's node
  std::vector<std::string> ended;
  for (const auto& [id, hold] : holding_) {
    if (hold.move == 0 || !view.contains(hold.from)) {
      ended.push_back(id);
    } else {
      HoldQuery& q = queries[hold.from];
      q.add_ids(id);
      q.add_moves(hold.move);
    }
  }
  for (const std::string& id : ended) end_hold(id);
  for (auto& [node, q] : queries) {
    q.set_from(s_.self.node);
    q.set_view(view.number());
    send_or_handle(node, std::move(q), &HubServer::answer_hold_query);
  }
  ask_handed_over(view);
  std::vector<HoldQuery> early = std::exchange(early_hold_queries_, {});
  for (const HoldQuery& q : early) {
    if (q.view() <= view.number()) {
      answer_hold_query(q);
    } else {
      early_hold_queries_.push_back(q);
    }
  }
}

void HubServer::ask_handed_over(const strategies::View& view) {
  // The view this node leaves (the decider adopts the new one after this).
  const strategies::View& last = decider_.view();
  std::map<std::string, Unheard> unanswered = std::exchange(unheard_, {});
  for (const auto& [node, asked] : unanswered) unmark_unheard(asked.member);
  if (!s_.config.migration->hands_over()) return;  // no copy ever forwards
  // A member that was in the last view too fenced no move this node did
  // not fence, unless a view came between (made on the other side of a
  // split, or one this node never adopted), or it has not answered yet.
  const bool between = view.number() != last.number() + 1;
  for (const strategies::Member& m : view.members()) {
    if (m.node == s_.self.node) continue;
    const strategies::Member* was = last.find(m.node);
    auto asked = unanswered.find(m.node);
    bool missed = asked != unanswered.end() && asked->second.member.creation == m.creation;
    if (!between && !missed && was && was->creation == m.creation) continue;
    unheard_.emplace(m.node, Unheard{m, {}});
    mark_unheard(m);
    HoldQuery q;
    q.set_from(s_.self.node);
    q.set_view(view.number());
    q.set_every(true);
    send_to(m.node, std::move(q));
  }
}

void HubServer::mark_unheard(const strategies::Member& member) {
  auto it = unheard_.find(member.node);
  if (it == unheard_.end() || it->second.member.creation != member.creation) return;
  if (uint32_t n = node_number(member)) s_.unheard.insert(n);
}

void HubServer::unmark_unheard(const strategies::Member& member) {
  if (uint32_t n = node_number(member)) s_.unheard.erase(n);
}

void HubServer::on_hold_query(const HoldQuery& query) {
  if (query.view() > decider_.view().number()) {
    // A handover may happen until then. (The asker may be new, not yet
    // greeted here: one query of each kind per node waits, the newest.)
    auto same = std::find_if(
        early_hold_queries_.begin(), early_hold_queries_.end(),
        [&](const HoldQuery& q) { return q.from() == query.from() && q.every() == query.every(); });
    if (same == early_hold_queries_.end()) {
      early_hold_queries_.push_back(query);
    } else if (same->view() <= query.view()) {
      *same = query;
    }
  } else if (members_.count(query.from()) || decider_.view().contains(query.from())) {
    answer_hold_query(query);  // (else no member of this hub's)
  }
}

void HubServer::answer_hold_query(const HoldQuery& query) {
  HoldAnswer a;
  a.set_from(s_.self.node);
  if (query.every()) {
    a.set_every(true);
    a.set_view(query.view());
    PartCutter<HoldAnswer> cutter(s_.part_bytes, std::move(a));
    for (const auto& [id, handed] : handed_) {
      HoldAnswer& part = cutter.current();
      part.add_ids(id);
      part.add_moves(handed.move);
      part.add_handed_over(true);
      cutter.added(id.size() + 12);  // the id, its move and its flag, with their tags
    }
    std::vector<HoldAnswer> parts = std::move(cutter).numbered();
    debug(s_, [&] {
      return "tells " + query.from() + " of " + std::to_string(handed_.size()) +
             " children handed over, in " + std::to_string(parts.size()) + " parts";
    });
    send_parts(query.from(), std::move(parts));
    return;
  }
  for (int i = 0; i < query.ids_size() && i < query.moves_size(); ++i) {
    const std::string& id = query.ids(i);
    auto handed = handed_.find(id);
    RecordPtr r = s_.registry.find(id);
    a.add_ids(id);
    a.add_moves(query.moves(i));
    a.add_handed_over((handed != handed_.end() && handed->second.move == query.moves(i)) ||
                      (r && r->epoch > query.moves(i)));
  }
  send_or_handle(query.from(), std::move(a), &HubServer::on_hold_answer);
}

void HubServer::on_hold_answer(const HoldAnswer& answer) {
  if (answer.every()) {
    auto asked = unheard_.find(answer.from());
    if (answer.view() != decider_.view().number() || asked == unheard_.end() ||
        !asked->second.parts.take(answer.part(), answer.parts())) {
      return;
    }
    // Held as if this node had fenced each move: until the commit (or
    // anything newer) is applied here, then to the new copy.
    for (int i = 0; i < answer.ids_size() && i < answer.moves_size(); ++i) {
      const std::string& id = answer.ids(i);
      if (RecordPtr r = s_.registry.find(id); r && r->epoch > answer.moves(i)) continue;
      auto h = holding_.find(id);
      if (h != holding_.end() && h->second.move >= answer.moves(i)) continue;  // a newer move's
      hold(id, answer.moves(i), answer.from());
    }
    if (!asked->second.parts.complete()) return;
    unmark_unheard(asked->second.member);
    unheard_.erase(asked);
    return;
  }
  for (int i = 0; i < answer.ids_size() && i < answer.moves_size(); ++i) {
    auto h = holding_.find(answer.ids(i));
    if (h == holding_.end() || h->second.move != answer.moves(i)) continue;  // another move's
    // Handed over: the newer version ends the hold as it is applied.
    if (i >= answer.handed_over_size() || !answer.handed_over(i)) end_hold(answer.ids(i));
  }
}

// ---- The node of the copy that moves

void HubServer::on_fenced(const MoveFenced& fenced) {
  if (fenced.view() != decider_.view().number() || !decider_.view().contains(fenced.from())) return;
  for (int i = 0; i < fenced.ids_size() && i < fenced.moves_size(); ++i) {
    Outgoing& out = outgoing_[fenced.ids(i)];
    if (out.move > fenced.moves(i)) continue;  // an older move's
    if (out.move < fenced.moves(i)) out = Outgoing{.move = fenced.moves(i)};
    out.fenced.insert(fenced.from());
    try_request(fenced.ids(i), out);
  }
}

void HubServer::on_hand_over(const HandOver& h) {
  // Of another view: the decider calls it off in time.
  if (h.view() != decider_.view().number() || !decides_in_view(h.from(), h.id())) return;
  Result<Pid> to = s_.node.from_proto(h.to());
  if (!to.ok() || h.to_node().empty() || h.to_node() == s_.self.node) return;
  Outgoing& out = outgoing_[h.id()];
  if (out.move > h.move()) return;
  if (out.move < h.move()) out = Outgoing{.move = h.move()};
  out.decider = h.from();
  out.to = *to;
  out.to_node = h.to_node();
  try_request(h.id(), out);
}

void HubServer::try_request(const std::string& id, Outgoing& out) {
  if (out.decider.empty() || out.asked || out.called_off) return;
  for (const strategies::Member& m : decider_.view().members()) {
    if (!out.fenced.count(m.node)) return;
  }
  Pid child = supervisor_->running_pid(id);
  if (!child || supervisor_->halting(id) || supervisor_->has_handed_over(id)) {
    answer_decider(id, out, true, "the child does not run here");
    outgoing_.erase(id);
    return;
  }
  out.asked = child;
  (void)self().send(child, HandoverRequest{s_.config.hub_id, id, self().self(), out.move});
}

void HubServer::on_handover_state(HandoverState& state) {
  auto it = outgoing_.find(state.child_id);
  bool current = it != outgoing_.end() && it->second.move == state.move;
  if (!current || it->second.called_off || it->second.asked != state.child ||
      supervisor_->running_pid(state.child_id) != state.child) {
    // Called off, or from a copy that is not the one asked: it carries on.
    (void)self().send(state.child, HandoverVerdict{state.move, Pid{}});
    if (current) outgoing_.erase(it);
    return;
  }
  Outgoing out = std::move(it->second);
  outgoing_.erase(it);
  HandoverStateProto p;
  p.set_id(state.child_id);
  p.set_move(out.move);
  s_.node.to_proto(out.to, p.mutable_to());
  p.set_state(std::move(state.state));
  p.set_decider(out.decider);
  p.set_view(decider_.view().number());
  // The state goes first on this node's connection to the new copy's; what
  // the old copy forwards from now on follows it. The new copy's node tells
  // the decider once the copy has it: a state lost on the way (this node
  // killed) is never taken for handed over.
  send_to(out.to_node, std::move(p));
  (void)self().send(state.child, HandoverVerdict{state.move, out.to});
  if (RecordPtr r = supervisor_->handed_over(state.child_id, out.to_node, out.to)) {
    handed_[state.child_id] = Handed{out.move, {std::move(r), out.to, out.to_node, false}};
  }
  s_.counters.handovers.fetch_add(1, std::memory_order_relaxed);
}

void HubServer::on_call_off(const CallOffHandover& c) {
  if (!decides_in_view(c.from(), c.id())) return;
  auto it = outgoing_.find(c.id());
  if (it == outgoing_.end() || it->second.move != c.move()) {
    // Handed over already (that answer is on its way), or never heard of.
    if (!supervisor_->has_handed_over(c.id())) {
      Outgoing unknown{.move = c.move()};
      unknown.decider = c.from();
      answer_decider(c.id(), unknown, true, "the move never reached the child's node");
    }
    return;
  }
  Outgoing& out = it->second;
  out.decider = c.from();
  answer_decider(c.id(), out, true, "the handover took longer than migr_base_timeout");
  if (out.asked) {
    out.called_off = true;  // its state, when it comes, is turned down
  } else {
    outgoing_.erase(it);
  }
}

void HubServer::answer_decider(const std::string& id, const Outgoing& out, bool called_off,
                               const std::string& reason) {
  tell_decider(out.decider, decider_.view().number(), id, out.move, called_off, reason);
}

void HubServer::tell_decider(const std::string& decider, uint64_t view, const std::string& id,
                             uint64_t move, bool called_off, const std::string& reason) {
  HandedOver a;
  a.set_from(s_.self.node);
  a.set_view(view);
  a.set_id(id);
  a.set_move(move);
  a.set_called_off(called_off);
  a.set_reason(reason);
  if (decider == s_.self.node) {
    local_handed_.push_back(std::move(a));
  } else {
    send_to(decider, std::move(a));
  }
}

// ---- The node of the new copy

void HubServer::on_state(const HandoverStateProto& state) {
  bool given = supervisor_->give_state(state.id(), state.move(), state.state());
  if (!given) {
    self().runtime().log(LogLevel::kWarning, "hub " + s_.config.hub_id +
                                                 ": the handed-over state of child " + state.id() +
                                                 " found no new copy waiting for it");
  }
  tell_decider(state.decider(), state.view(), state.id(), state.move(), !given,
               given ? "" : "the new copy is gone");
}

void HubServer::on_target_due(const TargetDue& due) {
  if (supervisor_->awaits_state(due.id) && supervisor_->running_pid(due.id) == due.pid) {
    supervisor_->halt(due.id);
  }
}

}  // namespace plexus::hub::detail

// Decider: views, handoff rounds and the reconcile (decider.h); starts,
// stops and halts are in decider.cpp.
#include <algorithm>

#include "decider.h"
#include "plexus/strategies/rendezvous.h"
#include "record_codec.h"
#include "segment_transfer.h"

namespace plexus::hub::detail {

// ---- Views and handoff rounds

void Decider::adopt(const strategies::View& view) {
  // What was in flight is asked again once the round is over: each waiter
  // as a request of its own, so that it is answered as it would have been.
  // A start that may have run a copy on a member now fenced waits for the
  // fence to lift.
  std::vector<std::pair<std::string, StartRequest>> fenced_starts;
  for (auto& [node, request] : fenced_starts_) {
    if (!view.contains(node) && port_.fenced(node)) {
      fenced_starts.emplace_back(std::move(node), std::move(request));
    } else {
      queued_starts_.push_back(std::move(request));
    }
  }
  for (auto& [id, op] : ops_) {
    std::string fence = fenced_member(op, view);
    for (const Waiter& w : op.starts) {
      StartRequest r;
      r.set_caller(w.caller);
      r.set_call(w.call);
      r.set_view(view.number());
      r.set_retry(!w.already);
      if (op.record->spec) encode(*op.record->spec, r.add_specs());
      if (op.record->placement) {
        PlacementProto* p = r.add_mapping();
        p->set_id(id);
        for (const std::string& n : *op.record->placement) p->add_nodes(n);
      }
      if (r.specs_size() == 0) continue;
      if (fence.empty()) {
        queued_starts_.push_back(std::move(r));
      } else {
        fenced_starts.emplace_back(fence, std::move(r));
      }
    }
    for (const Waiter& w : op.stops) {
      StopRequest r;
      r.set_caller(w.caller);
      r.set_call(w.call);
      r.set_view(view.number());
      r.add_ids(id);
      queued_stops_.push_back(std::move(r));
    }
  }
  ops_.clear();
  fenced_starts_ = std::move(fenced_starts);
  pending_loads_.clear();
  for (auto& [id, list] : deferred_starts_) {
    for (StartRequest& r : list) queued_starts_.push_back(std::move(r));
  }
  for (auto& [id, list] : deferred_stops_) {
    for (StopRequest& r : list) queued_stops_.push_back(std::move(r));
  }
  deferred_starts_.clear();
  deferred_stops_.clear();

  fence_segments(view);
  view_ = view;
  // A draining member stays so while it is in the view as the same
  // incarnation.
  std::vector<strategies::Member> staying;
  std::erase_if(draining_, [&](const strategies::Member& m) {
    const strategies::Member* now = view_.find(m.node);
    return !now || now->creation != m.creation;
  });
  for (const strategies::Member& m : view_.members()) {
    if (!draining_.count(m)) staying.push_back(m);
  }
  placing_view_ = strategies::View(view_.number(), std::move(staying));
  counter_ = 0;
  ready_ = false;
  owners_.assign(state_.registry.segments().count(), 0);
  self_index_ = UINT32_MAX;
  for (uint32_t i = 0; i < view_.size(); ++i) {
    if (view_.members()[i].node == state_.self.node) self_index_ = i;
  }
  for (uint32_t s = 0; s < owners_.size(); ++s) {
    const strategies::Member* first = strategies::rendezvous_first(s, view_, 1).front();
    owners_[s] = static_cast<uint32_t>(first - view_.members().data());
  }
  round_ = Round{};
  for (const strategies::Member& m : view_.members()) round_.awaiting_handoff.insert(m.node);

  early_handoffs_.erase(early_handoffs_.begin(), early_handoffs_.lower_bound(view.number()));
  early_records_.erase(early_records_.begin(), early_records_.lower_bound(view.number()));
  auto handoffs = early_handoffs_.extract(view.number());
  auto records = early_records_.extract(view.number());
  if (handoffs) {
    for (const Handoff& h : handoffs.mapped()) handoff(h);
  }
  if (records) {
    for (const SegmentRecords& r : records.mapped()) segment_records(r);
  }
}

void Decider::fence_segments(const strategies::View& next) {
  std::erase_if(fenced_segments_, [&](const auto& entry) {
    return next.contains(entry.second) || !port_.fenced(entry.second);
  });
  std::vector<bool> lost(view_.size(), false);
  bool any = false;
  for (size_t i = 0; i < view_.size(); ++i) {
    const std::string& node = view_.members()[i].node;
    lost[i] = !next.contains(node) && port_.fenced(node);
    any = any || lost[i];
  }
  if (!any) return;
  for (uint32_t s = 0; s < owners_.size(); ++s) {
    if (lost[owners_[s]]) fenced_segments_[s] = view_.members()[owners_[s]].node;
  }
}

std::string Decider::fenced_member(const Op& op, const strategies::View& next) {
  std::set<std::string> touched(op.starting.begin(), op.starting.end());
  touched.insert(op.then_start.begin(), op.then_start.end());
  touched.insert(op.halting.begin(), op.halting.end());
  for (const auto& [node, pid] : op.copies) touched.insert(node);
  if (op.swap) touched.insert(op.swap->node);
  for (const std::string& node : touched) {
    if (!next.contains(node) && port_.fenced(node)) return node;
  }
  return "";
}

void Decider::handoff(const Handoff& h) {
  if (h.view() < view_.number()) return;
  if (h.view() > view_.number()) {
    early_handoffs_[h.view()].push_back(h);
    return;
  }
  const std::string& from = h.from().node();
  if (ready_ || round_.awaiting_handoff.count(from) == 0) return;
  PartsReceived& parts = round_.handoff_parts[from];
  if (!parts.take(h.part(), h.parts())) return;
  if (parts.complete()) round_.awaiting_handoff.erase(from);
  // The member may have seen a view this decider never did (it joined
  // since) whose decider of one of these segments is now lost and fenced:
  // the segment is held here as if this decider had seen it.
  for (const FencedSegmentProto& f : h.fenced()) {
    if (f.segment() < owners_.size() && decides(f.segment()) && !view_.contains(f.node()) &&
        port_.fenced(f.node())) {
      fenced_segments_.try_emplace(f.segment(), f.node());
    }
  }
  for (const ClaimProto& c : h.running()) {
    RecordPtr r = decode_record(c.record());
    Result<Pid> pid = state_.node.from_proto(c.pid());
    if (r && pid.ok()) {
      claim_running({c.node().empty() ? from : c.node(), std::move(r), *pid, c.awaits_state()});
    }
  }
  for (const ChildRecordProto& p : h.ended()) claim_ended(decode_record(p));
  for (const SavedStateProto& s : h.saved()) {
    claim_saved({s.id(), s.epoch(), s.stamp(), std::make_shared<const std::string>(s.state())});
  }
  // The digests come in the last part.
  if (from != state_.self.node && h.part() + 1 >= h.parts()) {
    // The segments whose digests differ are swapped both ways: a joiner
    // gets this decider's records, and this decider the member's.
    std::unordered_map<uint32_t, SegmentDigest> theirs;
    for (const SegmentDigestProto& d : h.digests()) {
      theirs[d.segment()] = SegmentDigest{d.count(), d.sum()};
    }
    std::vector<uint32_t> differ;
    for (uint32_t s = 0; s < owners_.size(); ++s) {
      if (!decides(s)) continue;
      auto it = theirs.find(s);
      SegmentDigest other = it == theirs.end() ? SegmentDigest{} : it->second;
      if (state_.registry.digest(s) != other) differ.push_back(s);
    }
    debug(state_, [&] {
      return "handoff of view " + std::to_string(h.view()) + " from " + from + ": " +
             std::to_string(h.running_size()) + " running, " + std::to_string(differ.size()) +
             " segments differ";
    });
    if (!differ.empty()) {
      SegmentRecords header;
      header.mutable_from()->set_node(state_.self.node);
      header.mutable_from()->set_creation(state_.self.creation);
      header.set_view(view_.number());
      header.set_round(view_.number());
      round_.awaiting_records.insert(from);
      for (SegmentRecords& part : segment_parts(state_, differ, header, differ)) {
        port_.send_records(from, std::move(part));
      }
    }
  }
  check_round();
}

void Decider::own_handoff(const std::vector<Claim>& running, const std::vector<RecordPtr>& ended,
                          const std::vector<SavedState>& saved) {
  const std::string& self = state_.self.node;
  if (ready_ || round_.awaiting_handoff.erase(self) == 0) return;
  for (const Claim& c : running) claim_running(c);
  for (const RecordPtr& r : ended) claim_ended(r);
  for (const SavedState& s : saved) claim_saved(s);
  check_round();
}

void Decider::claim_running(Claim claim) {
  const RecordPtr& r = claim.record;
  // (A claim made for another node's copy may name one outside the view.)
  if (!r || !claim.pid || !decides(r->segment) || !view_.contains(claim.node)) return;
  if (port_.learn(r)) round_.learned.push_back(r);
  // One copy may be claimed twice: by its node, and by the node that handed
  // the child over to it (hot swap) and has not seen the commit.
  std::vector<Claim>& claims = round_.running[r->id];
  for (Claim& c : claims) {
    if (c.node == claim.node && c.pid == claim.pid) {
      if (claim.record->newer_than(*c.record)) c.record = claim.record;
      // The node that handed it over knows the state is on its way: the
      // copy is the child, not a target waiting for nothing.
      c.awaits_state = c.awaits_state && claim.awaits_state;
      return;
    }
  }
  claims.push_back(std::move(claim));
}

void Decider::claim_ended(const RecordPtr& r) {
  if (!r || !decides(r->segment)) return;
  RecordPtr& e = round_.ended[r->id];
  if (!e || r->newer_than(*e)) e = r;
}

void Decider::claim_saved(SavedState saved) {
  if (saved.id.empty() || !decides(state_.registry.segments().of(saved.id))) return;
  auto [it, fresh] = round_.saved.try_emplace(saved.id, saved);
  if (!fresh && (saved.epoch != it->second.epoch ? saved.epoch > it->second.epoch
                                                 : saved.stamp > it->second.stamp)) {
    it->second = std::move(saved);
  }
}

void Decider::segment_records(const SegmentRecords& records) {
  if (records.round() > view_.number()) {
    early_records_[records.round()].push_back(records);
    return;
  }
  bool in_round = records.round() == view_.number() && !ready_;
  for (const ChildRecordProto& p : records.records()) {
    RecordPtr r = decode_record(p);
    if (!r || !port_.learn(r)) continue;
    if (in_round && decides(r->segment)) {
      round_.learned.push_back(r);
    } else {
      learned(r);
    }
  }
  // Only the last missing part of an answer ends the wait: a request with
  // the same round is the member deciding segments of its own.
  const std::string& from = records.from().node();
  if (in_round && records.answer() && round_.awaiting_records.count(from) != 0) {
    PartsReceived& parts = round_.answer_parts[from];
    if (parts.take(records.part(), records.parts()) && parts.complete()) {
      round_.awaiting_records.erase(from);
    }
  }
  check_round();
}

void Decider::check_round() {
  if (ready_ || !round_.awaiting_handoff.empty() || !round_.awaiting_records.empty()) return;
  debug(state_, [&] { return "round of view " + std::to_string(view_.number()) + " done"; });
  for (const RecordPtr& r : round_.learned) {
    // Only the newest version of each is worth sending on.
    if (state_.registry.find(r->id) == r) port_.publish(r);
  }
  reconcile();
  round_ = Round{};
  ready_ = true;
  drain();
}

void Decider::reconcile() {
  // In partition mode this member's children are stopped and nothing is
  // started or moved: the next view with quorum reconciles.
  if (state_.partitioned()) return;
  std::set<std::string> ids;
  for (const RecordPtr& r : state_.registry.live()) {
    if (decides(r->segment)) ids.insert(r->id);
  }
  for (const auto& [id, claims] : round_.running) ids.insert(id);
  for (const auto& [id, record] : round_.ended) ids.insert(id);
  static const std::vector<Claim> kNone;
  for (const std::string& id : ids) {
    auto running = round_.running.find(id);
    auto ended = round_.ended.find(id);
    reconcile_one(id, running == round_.running.end() ? kNone : running->second,
                  ended == round_.ended.end() ? nullptr : ended->second);
  }
}

void Decider::reconcile_one(const std::string& id, const std::vector<Claim>& running,
                            const RecordPtr& ended) {
  RecordPtr r = state_.registry.find(id);
  debug(state_, [&] {
    std::string claims;
    for (const Claim& c : running) claims += " " + c.node;
    return "reconciles " + id + (r ? (r->tombstone ? " (tombstone)" : " (live)") : " (none)") +
           (ended ? " ended" : "") + " claimed by" + claims;
  });
  if (!r) return;
  Op op;
  op.record = r;
  if (r->tombstone) {
    // Stopped on some side while it ran on another: the stop wins.
    for (const Claim& c : running) op.halting.insert(c.node);
    if (!op.halting.empty()) begin(std::move(op));
    return;
  }
  if (ended && !r->newer_than(*ended)) {
    // Its node gave it up (restarts exhausted, or a normal end of a
    // transient child) and the news did not reach the decider of its view.
    for (const Claim& c : running) op.halting.insert(c.node);
    op.then_tombstone = true;
    begin(std::move(op));
    return;
  }
  if (fenced(*r)) {
    // A copy may still run on a member lost within fence_margin (cut off,
    // stopping its children): nothing changes until the fence lifts, and
    // the view after that reconciles it.
    debug(state_, [&] { return "holds " + id + ": a copy of it is fenced"; });
    return;
  }
  std::vector<std::string> places = place(*r, nullptr);
  // The copies to keep: one on each placed member that runs one. A hot
  // swap's new copy that has no state yet is no copy to keep; one the
  // registry names has it (a hot swap commits once its state came), though
  // its node claimed it before.
  std::map<std::string, Pid> kept;
  std::vector<const Claim*> others;
  std::vector<const Claim*> targets;
  for (const Claim& c : running) {
    if (c.awaits_state && !r->pids.contains(c.pid)) {
      targets.push_back(&c);
      continue;
    }
    bool placed = std::find(places.begin(), places.end(), c.node) != places.end();
    if (placed && kept.emplace(c.node, c.pid).second) continue;
    others.push_back(&c);
  }
  for (const Claim* c : others) op.halting.insert(c->node);
  std::vector<std::string> missing;
  for (const std::string& node : places) {
    if (!kept.count(node)) missing.push_back(node);
  }
  // A waiting new copy is taken up by the start on its node (as the target
  // of a new hot swap, or afresh); on any other node it halts.
  for (const Claim* t : targets) {
    if (std::find(missing.begin(), missing.end(), t->node) == missing.end()) {
      op.halting.insert(t->node);
    }
  }
  if (missing.empty()) {
    std::vector<Pid> pids;
    for (const std::string& node : places) pids.push_back(kept[node]);
    if (r->pids.to_vector() != pids) port_.publish(version(*r, pids, false));
    if (!op.halting.empty()) begin(std::move(op));
    return;
  }
  if (places.empty()) {
    // No member may run it now (a guided child whose nodes are gone).
    if (!r->pids.empty()) port_.publish(version(*r, {}, false));
    if (!op.halting.empty()) begin(std::move(op));
    return;
  }
  moves_.push_back(id);
  op.places = places;
  if (!kept.empty()) {
    // Copies run where they belong: the missing ones start beside them
    // while the misplaced ones halt.
    // (Their answers come as messages, after begin().)
    op.copies = std::move(kept);
    run_copies(op, missing);
    begin(std::move(op));
    return;
  }
  // None runs where it belongs: a cold swap. The copy that moves is the
  // newest version's (after a heal), then the one of the smallest name.
  const Claim* keep = nullptr;
  for (const Claim* c : others) {
    if (!keep || c->record->newer_than(*keep->record) ||
        (!keep->record->newer_than(*c->record) && c->node < keep->node)) {
      keep = c;
    }
  }
  if (keep && state_.config.migration->hands_over()) {
    // A hot swap: the copy that moves runs on until it has handed its state
    // to the new one (advance, handed_over).
    op.halting.erase(keep->node);
    op.moved_from = keep->node;
    op.swap = Op::Swap{keep->node, keep->pid};
    run_copies(op, missing);
    op.swap->move = op.record->epoch;
    port_.begin_move(id, keep->node, op.swap->move);
    begin(std::move(op));
    return;
  }
  if (keep) {
    op.moved_from = keep->node;
  } else if (auto saved = round_.saved.find(id); saved != round_.saved.end()) {
    op.saved_state = saved->second.state;  // back after a restart of the cluster
  }
  op.then_start = std::move(missing);
  begin(std::move(op));
}

void Decider::drain() {
  std::deque<StartRequest> starts;
  std::deque<StopRequest> stops;
  starts.swap(queued_starts_);
  stops.swap(queued_stops_);
  for (StartRequest& r : starts) start(std::move(r));
  for (StopRequest& r : stops) stop(std::move(r));
}

}  // namespace plexus::hub::detail

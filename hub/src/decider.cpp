// Decider: starts, stops, halts and what members report (decider.h); the
// views, handoff rounds and the reconcile are in decider_round.cpp, drains
// and hot swaps in decider_moves.cpp.
#include "decider.h"

#include <algorithm>

#include "plexus/strategies/rendezvous.h"
#include "plexus/strategies/stable_hash.h"
#include "record_codec.h"
#include "segment_transfer.h"

namespace plexus::hub::detail {

namespace {

// A request forwarded this often is answered no_owner: the members' views
// disagree for longer than a view change takes.
constexpr uint32_t kMaxHops = 8;

ChildErrorProto error(std::string_view id, std::string_view node, std::string_view reason) {
  ChildErrorProto e;
  e.set_id(std::string(id));
  e.set_node(std::string(node));
  e.set_reason(std::string(reason));
  return e;
}

strategies::ChildMapping mapping_of(const StartRequest& request) {
  strategies::ChildMapping mapping;
  for (const PlacementProto& p : request.mapping()) {
    mapping[p.id()] = std::vector<std::string>(p.nodes().begin(), p.nodes().end());
  }
  return mapping;
}

// A copy of `request` with only `spec` (and its mapping entry).
StartRequest single(const StartRequest& request, const ChildSpecProto& spec) {
  StartRequest one;
  one.set_caller(request.caller());
  one.set_call(request.call());
  one.set_view(request.view());
  one.set_hops(request.hops());
  one.set_retry(request.retry());
  *one.add_specs() = spec;
  for (const PlacementProto& p : request.mapping()) {
    if (p.id() == spec.id()) *one.add_mapping() = p;
  }
  return one;
}

}  // namespace

Decider::Decider(HubState& state, DeciderPort& port)
    : state_(state),
      port_(port),
      stamp_(static_cast<uint32_t>(strategies::stable_hash(state.self.node, state.self.creation) >>
                                   32)) {
  adopt(strategies::View(0, {state.self}));
}

RecordPtr Decider::decode_record(const ChildRecordProto& proto) {
  Result<RecordPtr> r = decode(proto, state_.node, state_.registry.segments());
  if (!r.ok()) {
    state_.node.runtime().log(
        LogLevel::kWarning,
        "hub " + state_.config.hub_id + ": dropped a record: " + r.status().message());
    return nullptr;
  }
  return *r;
}

std::vector<std::string> Decider::place(const ChildRecord& record,
                                        const strategies::ChildMapping* mapping) {
  const strategies::View& in = draining_.empty() ? view_ : placing_view_;
  if (in.empty()) return {};
  int replicas =
      std::min<int>(state_.config.redundancy->replication_factor(in), static_cast<int>(in.size()));
  strategies::PlacementInput input;
  input.child_id = record.id;
  input.segment = record.segment;
  input.replicas = std::max(1, replicas);
  input.view = &in;
  input.recorded = record.placement ? &*record.placement : nullptr;
  input.mapping = mapping;
  if (state_.config.distribution->reads_loads()) {
    // The registry's counts, and the starts this decider placed that are
    // not committed yet (a call's children are placed before any commits).
    placing_loads_ = state_.loads;
    for (const auto& [node, n] : pending_loads_) placing_loads_[node] += n;
    input.loads = &placing_loads_;
  }
  return state_.config.distribution->place(input);
}

RecordPtr Decider::version(const ChildRecord& base, std::vector<Pid> pids, bool tombstone) {
  auto r = std::make_shared<ChildRecord>();
  r->id = base.id;
  r->segment = base.segment;
  r->epoch = next_epoch();
  r->stamp = stamp_;
  r->origin = base.origin;  // 0 for a start's first version: set below
  r->tombstone = tombstone;
  above_known(*r);
  if (r->origin == 0) r->origin = r->epoch;
  if (!tombstone) {
    r->spec = base.spec;
    r->pids = PidList(pids);
    r->placement = base.placement;
  }
  return r;
}

void Decider::above_known(ChildRecord& record) const {
  // Two views of one number can stand for a while on two sides of a split
  // (until their claimants hear of each other), so an epoch of this view
  // may be below one the other side issued: a decision must still beat
  // every version it was made from. (Above a newer incarnation, or above
  // its own incarnation's tombstone, a live version never gets: the child
  // was started again, or stopped.)
  if (RecordPtr known = state_.registry.find(record.id); known && record.epoch <= known->epoch) {
    record.epoch = known->epoch + 1;
  }
}

ChildErrorProto Decider::already_started(const ChildRecord& record) const {
  ChildErrorProto e = error(
      record.id, record.pids.empty() ? std::string_view() : state_.node_of(record.pids.front()),
      "already_started");
  if (!record.pids.empty()) state_.node.to_proto(record.pids.front(), e.mutable_pid());
  // The caller's registry shows the child when its call returns, as for a start.
  encode(record, state_.node, e.mutable_record());
  return e;
}

// ---- Starts

void Decider::start(StartRequest request) {
  if (!ready_ || request.view() > view_.number()) {
    queued_starts_.push_back(std::move(request));
    return;
  }
  if (state_.partitioned()) {
    for (const ChildSpecProto& spec : request.specs()) {
      port_.failed(request.caller(), request.call(), true,
                   error(spec.id(), state_.self.node, "partitioned"));
    }
    return;
  }
  strategies::ChildMapping mapping = mapping_of(request);
  std::map<std::string, StartRequest> onward;
  for (const ChildSpecProto& spec : request.specs()) {
    uint32_t segment = state_.registry.segments().of(spec.id());
    if (decides(segment)) {
      start_one(request, spec, mapping);
      continue;
    }
    const std::string& to = owner(segment);
    if (request.hops() >= kMaxHops) {
      port_.failed(request.caller(), request.call(), true, error(spec.id(), to, "no_owner"));
      continue;
    }
    StartRequest& fwd = onward[to];
    if (fwd.specs_size() == 0) {
      fwd = single(request, spec);
      fwd.set_hops(request.hops() + 1);
      fwd.set_view(view_.number());
    } else {
      StartRequest one = single(request, spec);
      fwd.add_specs()->Swap(one.mutable_specs(0));
      for (PlacementProto& p : *one.mutable_mapping()) fwd.add_mapping()->Swap(&p);
    }
  }
  for (auto& [to, fwd] : onward) port_.forward_start(to, std::move(fwd));
}

void Decider::defer(const std::string& id, const StartRequest& request,
                    const ChildSpecProto& spec) {
  deferred_starts_[id].push_back(single(request, spec));
}

void Decider::defer(const std::string& id, const StopRequest& request) {
  StopRequest one;
  one.set_caller(request.caller());
  one.set_call(request.call());
  one.set_view(request.view());
  one.set_hops(request.hops());
  one.add_ids(id);
  deferred_stops_[id].push_back(std::move(one));
}

void Decider::start_one(const StartRequest& request, const ChildSpecProto& spec,
                        const strategies::ChildMapping& mapping) {
  const std::string& id = spec.id();
  // A start that finds the id starting gets its outcome: already_started
  // with the same pid, unless it is a retry of the start that began it.
  Waiter waiter{request.caller(), request.call(), false};
  if (auto it = ops_.find(id); it != ops_.end()) {
    Op& op = it->second;
    if (op.starts_copies()) {
      waiter.already = !request.retry();
      op.starts.push_back(std::move(waiter));
    } else {
      defer(id, request, spec);
    }
    return;
  }
  if (RecordPtr r = state_.registry.find_live(id)) {
    if (request.retry()) {
      port_.started(request.caller(), request.call(), r);
    } else {
      port_.failed(request.caller(), request.call(), true, already_started(*r));
    }
    return;
  }
  if (auto fence = fenced_segments_.find(state_.registry.segments().of(id));
      fence != fenced_segments_.end()) {
    // Its last decider is fenced and may have had this start in flight.
    fenced_starts_.emplace_back(fence->second, single(request, spec));
    return;
  }
  Result<std::shared_ptr<const ChildSpec>> decoded = decode(spec);
  if (!decoded.ok() || id.empty()) {
    port_.failed(request.caller(), request.call(), true,
                 error(id, state_.self.node,
                       decoded.ok() ? "a child without an id" : decoded.status().message()));
    return;
  }
  ChildRecord base;
  base.id = id;
  base.segment = state_.registry.segments().of(id);
  base.spec = std::move(*decoded);
  std::vector<std::string> places = place(base, &mapping);
  if (places.empty()) {
    port_.failed(request.caller(), request.call(), true, error(id, state_.self.node, "no_node"));
    return;
  }
  if (state_.config.distribution->records_placement()) {
    base.placement = plexus::detail::Indirect<std::vector<std::string>>(places);
  }
  Op op;
  op.places = places;
  op.counted = state_.config.distribution->reads_loads();
  if (op.counted) {
    for (const std::string& node : places) ++pending_loads_[node];
  }
  op.starts.push_back(std::move(waiter));
  // Registered (a version of its own) before it runs anywhere; the answers
  // come as messages, once the op is in ops_.
  op.record = std::make_shared<ChildRecord>(std::move(base));
  run_copies(op, places);
  ops_.emplace(id, std::move(op));
}

void Decider::run_copies(Op& op, const std::vector<std::string>& nodes) {
  op.record = version(*op.record, {}, false);
  op.starting.insert(nodes.begin(), nodes.end());
  RecordPtr record = op.record;
  for (const std::string& node : nodes) {
    port_.run_on(node, record, op.swap && node == op.places.front(), op.saved_state);
  }
}

void Decider::child_running(const std::string& from, const ChildRunning& running) {
  if (running.view() != view_.number()) return;
  auto it = ops_.find(running.id());
  if (it == ops_.end() || it->second.record->epoch != running.epoch() ||
      it->second.starting.erase(from) == 0) {
    return;
  }
  Op& op = it->second;
  if (op.counted) {
    auto pending = pending_loads_.find(from);
    if (pending != pending_loads_.end() && --pending->second == 0) pending_loads_.erase(pending);
  }
  Result<Pid> pid = running.has_pid() ? state_.node.from_proto(running.pid())
                                      : Result<Pid>(Status(StatusCode::kNotFound, "no pid"));
  if (running.error().empty() && pid.ok() && *pid) {
    op.copies[from] = *pid;
    if (op.swap && !op.swap->asked && running.existing() && from == op.places.front()) {
      // The child runs on its placed member already (a new copy this
      // decider did not know of, which has its state): that copy is kept,
      // and the one that would have moved halts. The commit ends the holds.
      std::string old = op.swap->node;
      op.swap.reset();
      if (op.halting.insert(old).second) port_.halt_on(old, running.id());
    }
  } else {
    std::string why = running.error().empty() ? "the member sent no pid" : running.error();
    state_.node.runtime().log(LogLevel::kWarning, "hub " + state_.config.hub_id + ": child " +
                                                      running.id() + " did not start on " + from +
                                                      ": " + why);
    if (op.copies.empty() && op.starting.empty() && !op.swap) {
      // No copy runs: the start failed.
      for (const Waiter& w : op.starts) {
        port_.failed(w.caller, w.call, true, error(running.id(), from, why));
      }
      for (const Waiter& w : op.stops) {
        port_.failed(w.caller, w.call, false, error(running.id(), from, "not_found"));
      }
      op.starts.clear();
      op.stops.clear();
      op.places.clear();
      // A child the registry named (a failover) must not keep naming a dead pid.
      if (RecordPtr r = state_.registry.find_live(running.id()); r && !r->pids.empty()) {
        port_.publish(version(*r, {}, false));
      }
    }
  }
  advance(running.id());
}

void Decider::commit(const std::string& id) {
  Op& op = ops_.at(id);
  std::vector<Pid> pids;
  for (const std::string& node : op.places) {
    if (auto c = op.copies.find(node); c != op.copies.end()) pids.push_back(c->second);
  }
  // A version of its own: the one it started as (no pids) may be known
  // somewhere (a member's handoff), and two records of one id and version
  // must be the same record.
  RecordPtr committed = version(*op.record, pids, false);
  port_.publish(committed);
  if (!op.moved_from.empty()) port_.migrated(id, op.moved_from, op.places.front());
  finish_start(op, committed);
  if (op.given_up || !op.stops.empty()) {
    // A stop came while it was starting, or a copy gave up: now every copy
    // can be stopped.
    std::vector<Waiter> stops = std::move(op.stops);
    // Requests deferred behind this op wait for the halts.
    ops_.erase(id);
    give_up(committed, std::move(stops));
    return;
  }
  done(id);
}

void Decider::give_up(const RecordPtr& record, std::vector<Waiter> stops) {
  Op halt;
  halt.record = record;
  halt.then_tombstone = true;
  halt.stops = std::move(stops);
  for (Pid pid : record->pids) {
    std::string node(state_.node_of(pid));
    halt.ran_on.push_back(node);
    if (view_.contains(node)) halt.halting.insert(node);
  }
  begin(std::move(halt));
}

void Decider::finish_start(Op& op, const RecordPtr& committed) {
  for (const Waiter& w : op.starts) {
    if (!w.already) {
      port_.started(w.caller, w.call, committed);
      continue;
    }
    port_.failed(w.caller, w.call, true, already_started(*committed));
  }
  op.starts.clear();
}

// ---- Stops and halts

void Decider::stop(StopRequest request) {
  if (!ready_ || request.view() > view_.number()) {
    queued_stops_.push_back(std::move(request));
    return;
  }
  if (state_.partitioned()) {
    for (const std::string& id : request.ids()) {
      port_.failed(request.caller(), request.call(), false,
                   error(id, state_.self.node, "partitioned"));
    }
    return;
  }
  std::map<std::string, StopRequest> onward;
  for (const std::string& id : request.ids()) {
    uint32_t segment = state_.registry.segments().of(id);
    if (decides(segment)) {
      stop_one(request, id);
      continue;
    }
    const std::string& to = owner(segment);
    if (request.hops() >= kMaxHops) {
      port_.failed(request.caller(), request.call(), false, error(id, to, "no_owner"));
      continue;
    }
    StopRequest& fwd = onward[to];
    if (fwd.ids_size() == 0) {
      fwd.set_caller(request.caller());
      fwd.set_call(request.call());
      fwd.set_view(view_.number());
      fwd.set_hops(request.hops() + 1);
    }
    fwd.add_ids(id);
  }
  for (auto& [to, fwd] : onward) port_.forward_stop(to, std::move(fwd));
}

void Decider::stop_one(const StopRequest& request, const std::string& id) {
  Waiter waiter{request.caller(), request.call(), false};
  if (auto it = ops_.find(id); it != ops_.end()) {
    if (it->second.starts_copies()) {
      it->second.stops.push_back(std::move(waiter));
    } else {
      defer(id, request);
    }
    return;
  }
  RecordPtr r = state_.registry.find_live(id);
  if (!r) {
    port_.failed(request.caller(), request.call(), false, error(id, state_.self.node, "not_found"));
    return;
  }
  give_up(r, {std::move(waiter)});
}

void Decider::begin(Op op) {
  std::string id = op.record->id;
  std::vector<std::string> halts(op.halting.begin(), op.halting.end());
  ops_[id] = std::move(op);
  for (const std::string& node : halts) port_.halt_on(node, id);
  advance(id);
}

void Decider::child_halted(const std::string& from, const ChildHalted& halted) {
  if (halted.view() != view_.number()) return;
  auto it = ops_.find(halted.id());
  if (it == ops_.end() || it->second.halting.erase(from) == 0) return;
  Op& op = it->second;
  if (halted.has_saved_state() && !op.then_start.empty() &&
      (!op.saved_state || from == op.moved_from)) {
    // A durable child's cold swap: the new copies start from what the one
    // that moves saved last.
    op.saved_state = std::make_shared<const std::string>(halted.saved_state());
  }
  advance(halted.id());
}

void Decider::advance(const std::string& id) {
  auto it = ops_.find(id);
  if (it == ops_.end() || !it->second.halting.empty() || !it->second.starting.empty()) return;
  Op& op = it->second;
  if (op.swap && !op.swap->done && (swap_waits(id, op) || !op.halting.empty())) return;
  if (op.then_tombstone) {
    RecordPtr tombstone = version(*op.record, {}, true);
    port_.publish(tombstone);
    for (const Waiter& w : op.stops) port_.stopped(w.caller, w.call, tombstone, op.ran_on);
    done(id);
  } else if (!op.then_start.empty()) {
    std::vector<std::string> nodes = std::move(op.then_start);
    op.then_start.clear();
    run_copies(op, nodes);
  } else if (!op.copies.empty()) {
    commit(id);
  } else if (op.given_up || !op.stops.empty()) {
    // A swap called off whose child gave up, or was asked to stop, meanwhile.
    RecordPtr r = state_.registry.find_live(id);
    std::vector<Waiter> stops = std::move(op.stops);
    ops_.erase(id);
    if (r) {
      give_up(r, std::move(stops));
    } else {
      for (const Waiter& w : stops) {
        port_.failed(w.caller, w.call, false, error(id, state_.self.node, "not_found"));
      }
    }
  } else {
    done(id);
  }
}

void Decider::done(const std::string& id) {
  ops_.erase(id);
  auto starts = deferred_starts_.extract(id);
  auto stops = deferred_stops_.extract(id);
  if (starts) {
    for (StartRequest& r : starts.mapped()) start(std::move(r));
  }
  if (stops) {
    for (StopRequest& r : stops.mapped()) stop(std::move(r));
  }
  move_off_draining(id);
}

void Decider::learned(const RecordPtr& record) {
  if (!ready_ || record->tombstone || !decides(record->segment) || ops_.count(record->id) ||
      state_.partitioned()) {
    return;
  }
  if (state_.registry.find(record->id) != record) return;  // not the newest
  for (Pid pid : record->pids) {
    if (!view_.contains(state_.node_of(pid))) {
      reconcile_one(record->id, claims_of(record), nullptr);
      return;
    }
  }
}

bool Decider::fenced(const ChildRecord& record) {
  if (fenced_segments_.count(record.segment)) return true;
  for (Pid pid : record.pids) {
    std::string node(state_.node_of(pid));
    if (!view_.contains(node) && port_.fenced(node)) return true;
  }
  return false;
}

std::vector<Claim> Decider::claims_of(const RecordPtr& record) const {
  std::vector<Claim> out;
  for (Pid pid : record->pids) {
    std::string node(state_.node_of(pid));
    if (view_.contains(node)) out.push_back({std::move(node), record, pid});
  }
  return out;
}

// ---- What a member's supervisor did on its own

void Decider::child_event(const std::string& from, const ChildEvent& event) {
  if (event.view() != view_.number()) return;
  // Events from one member come in order, and each is about the copy it
  // runs now: any event from a member the record places a copy on is news.
  Result<Pid> pid = event.has_pid() ? state_.node.from_proto(event.pid()) : Result<Pid>(Pid{});
  if (!pid.ok()) return;
  if (auto it = ops_.find(event.id()); it != ops_.end()) {
    // A copy this op keeps (or started) restarted, or gave up.
    Op& op = it->second;
    if (op.swap && from == op.swap->node) {
      // The copy that moves: its node hands over the new pid if asked, or
      // calls the handover off (it ended for good).
      op.swap->pid = *pid;
      return;
    }
    auto copy = op.copies.find(from);
    if (copy == op.copies.end()) return;
    if (*pid) {
      copy->second = *pid;
    } else {
      op.copies.erase(copy);
      op.given_up = true;
    }
    return;
  }
  RecordPtr r = state_.registry.find_live(event.id());
  if (!r) return;
  std::vector<Pid> pids = r->pids.to_vector();
  auto at =
      std::find_if(pids.begin(), pids.end(), [&](Pid p) { return state_.node_of(p) == from; });
  if (at == pids.end()) return;
  if (!*pid) {
    // It ended for good on that member (a transient child's normal end, or
    // its restarts ran out): the child is given up everywhere.
    pids.erase(at);
    give_up(version(*r, pids, false), {});
    return;
  }
  if (*pid == *at) return;
  *at = *pid;
  port_.publish(version(*r, pids, false));
}

}  // namespace plexus::hub::detail

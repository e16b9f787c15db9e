#include "hub_server.h"

#include <algorithm>
#include <set>

#include "anti_entropy.h"
#include "plexus/node/events.h"
#include "plexus/pid.pb.h"
#include "record_codec.h"
#include "segment_transfer.h"

namespace plexus::hub::detail {

HubServer::HubServer(std::shared_ptr<HubState> state)
    : state_(std::move(state)),
      s_(*state_),
      keeper_(s_.self),
      reach_(s_.self),
      quorum_(*s_.config.partition_tolerance),
      decider_(s_, *this),
      gossip_(*s_.config.synchronization) {}

void HubServer::set_from(MemberProto* from) const {
  from->set_node(s_.self.node);
  from->set_creation(s_.self.creation);
}

Status HubServer::init() {
  if (Status named = self().register_name(s_.server_name); !named.ok()) {
    return Status(StatusCode::kAlreadyExists,
                  "node " + s_.self.node + " runs hub " + s_.config.hub_id + " already");
  }
  self().trap_exit(true);
  supervisor_.emplace(s_, self());
  calls_.emplace(
      s_, self(), decider_,
      [this](const RecordPtr& r) {
        apply(r);
        decider_.learned(r);
      },
      reached());
  s_.node.subscribe(self().self());
  for (const std::string& node : s_.node.nodes()) greet(node);
  Runtime& rt = self().runtime();
  rt.send_after(self().self(), s_.config.hubs_discover_interval, Discover{});
  rt.send_after(self().self(), s_.config.sync_interval, Sync{});
  rt.send_after(self().self(), s_.config.storage_purge_interval, Purge{});
  quorum_turned(quorum_.start(rt.now_ms()));
  restore();
  adopt(keeper_.view());
  return Status::OK();
}

void HubServer::terminate(const ExitReason&) {
  if (!leaving_) hook(HookEvent::kShutdown, Shutdown{s_.self.node});
  s_.alive.store(false);
  if (calls_) calls_->fail_all("hub_stopped");
  if (leave_future_) leave_future_->set(Status::OK());
}

void HubServer::handle_info(Message& msg) {
  dispatch(msg);
  // This member's own answers to its decider, in the order they were made:
  // a call of 30,000 children run here commits them in one batch, with one
  // broadcast and one reply.
  do {
    while (!local_running_.empty() || !local_halted_.empty() || !local_handed_.empty()) {
      std::vector<ChildRunning> running;
      std::vector<ChildHalted> halted;
      std::vector<HandedOver> handed;
      running.swap(local_running_);
      halted.swap(local_halted_);
      handed.swap(local_handed_);
      for (const ChildRunning& r : running) decider_.child_running(s_.self.node, r);
      for (const ChildHalted& h : halted) decider_.child_halted(s_.self.node, h);
      for (const HandedOver& h : handed) decider_.handed_over(s_.self.node, h);
    }
  } while (send_moves());  // this node's part of a move may answer its decider
  // Answers of this node's decider to this node's calls.
  std::map<uint64_t, std::vector<RecordPtr>> started;
  started.swap(local_started_);
  for (const auto& [call, records] : started) calls_->started(call, records);
  flush();
}

void HubServer::dispatch(Message& msg) {
  if (auto* m = msg.get_if<LocalStart>()) {
    calls_->start(std::move(*m));
  } else if (auto* m = msg.get_if<LocalStop>()) {
    calls_->stop(std::move(*m));
  } else if (auto* m = msg.get_if<StartRequest>()) {
    decider_.start(std::move(*m));
  } else if (auto* m = msg.get_if<StopRequest>()) {
    decider_.stop(std::move(*m));
  } else if (auto* m = msg.get_if<StartReply>()) {
    calls_->start_reply(*m);
  } else if (auto* m = msg.get_if<StopReply>()) {
    calls_->stop_reply(*m);
  } else if (auto* m = msg.get_if<RecordsDelta>()) {
    on_delta(*m);
  } else if (auto* m = msg.get_if<GossipAck>()) {
    gossip_.acked(*m);
  } else if (msg.is<GossipDue>()) {
    on_gossip_due();
  } else if (auto* m = msg.get_if<RunChild>()) {
    on_run(*m);
  } else if (auto* m = msg.get_if<ChildRunning>()) {
    decider_.child_running(m->from(), *m);
  } else if (auto* m = msg.get_if<HaltChild>()) {
    on_halt(*m);
  } else if (auto* m = msg.get_if<ChildHalted>()) {
    decider_.child_halted(m->from(), *m);
  } else if (auto* m = msg.get_if<ChildEvent>()) {
    decider_.child_event(m->from(), *m);
  } else if (auto* m = msg.get_if<MoveBegin>()) {
    on_move_begin(*m);
  } else if (auto* m = msg.get_if<MoveFenced>()) {
    on_fenced(*m);
  } else if (auto* m = msg.get_if<HandOver>()) {
    on_hand_over(*m);
  } else if (auto* m = msg.get_if<HandoverState>()) {
    on_handover_state(*m);
  } else if (auto* m = msg.get_if<HandedOver>()) {
    decider_.handed_over(m->from(), *m);
  } else if (auto* m = msg.get_if<HandoverDue>()) {
    decider_.handover_due(m->id, m->move);
  } else if (auto* m = msg.get_if<CallOffHandover>()) {
    on_call_off(*m);
  } else if (auto* m = msg.get_if<HandoverStateProto>()) {
    on_state(*m);
  } else if (auto* m = msg.get_if<MoveEnd>()) {
    on_move_end(*m);
  } else if (auto* m = msg.get_if<HoldQuery>()) {
    on_hold_query(*m);
  } else if (auto* m = msg.get_if<HoldAnswer>()) {
    on_hold_answer(*m);
  } else if (auto* m = msg.get_if<TargetDue>()) {
    on_target_due(*m);
  } else if (auto* m = msg.get_if<HubDrain>()) {
    decider_.drain_member({m->from().node(), m->from().creation()});
  } else if (msg.get_if<DrainDue>()) {
    if (draining_ && !leaving_) {
      self().runtime().log(LogLevel::kWarning,
                           "hub " + s_.config.hub_id + ": " + std::to_string(supervisor_->size()) +
                               " children did not move off this node in time; they stop here");
      leave_cold();
    }
  } else if (auto* m = msg.get_if<Exit>()) {
    on_exit(*m);
  } else if (auto* m = msg.get_if<HaltTimeout>()) {
    supervisor_->on_halt_timeout(m->pid);
  } else if (auto* m = msg.get_if<CallTimeout>()) {
    calls_->timeout(m->call);
  } else if (auto* m = msg.get_if<Handoff>()) {
    decider_.handoff(*m);
  } else if (auto* m = msg.get_if<SegmentRecords>()) {
    on_records(*m);
  } else if (auto* m = msg.get_if<DigestSummary>()) {
    on_summary(*m);
  } else if (auto* m = msg.get_if<HubHello>()) {
    on_hello(*m);
  } else if (auto* m = msg.get_if<HubView>()) {
    on_view(*m);
  } else if (auto* m = msg.get_if<HubLeave>()) {
    known_.erase(m->from().node());
    member_gone(m->from().node());
    lost_.erase(m->from().node());
  } else if (auto* m = msg.get_if<HubReach>()) {
    on_reach(*m);
  } else if (auto* m = msg.get_if<HubRenew>()) {
    if (m->view() == keeper_.view().number() && keeper_.is_claimant()) {
      keeper_.renew();
      membership_changed();
    }
  } else if (auto* m = msg.get_if<HubRefused>()) {
    on_refused(*m);
  } else if (auto* m = msg.get_if<NodeUp>()) {
    greet(m->node);
  } else if (auto* m = msg.get_if<NodeDown>()) {
    greeted(m->node);
    member_gone(m->node);
  } else if (auto* m = msg.get_if<Down>()) {
    // A greeted node's hub server: not there (noproc), or gone.
    auto it = greeted_.find(m->by_name ? m->node() : "");
    if (it != greeted_.end() && it->second == m->ref) greeted_.erase(it);
  } else if (auto* m = msg.get_if<Propose>()) {
    on_propose(m->generation);
  } else if (auto* m = msg.get_if<RoundTimeout>()) {
    if (m->view == decider_.view().number() && !decider_.ready()) {
      self().runtime().log(LogLevel::kWarning,
                           "hub " + s_.config.hub_id + ": the handoff round of view " +
                               std::to_string(m->view) + " did not end; asking for a new view");
      renew();
      membership_changed();
    }
  } else if (msg.is<Discover>()) {
    // The connected nodes that are not members yet, and the members this
    // node lost and did not see leave (the Hello dials them: a healed
    // partition is found this way).
    std::set<std::string> ask(known_.begin(), known_.end());
    for (const std::string& node : s_.node.nodes()) ask.insert(node);
    for (const std::string& node : ask) {
      if (node != s_.self.node && !members_.count(node)) hello(node, true);
    }
    self().runtime().send_after(self().self(), s_.config.hubs_discover_interval, Discover{});
  } else if (msg.is<Regroup>()) {
    regroup();
  } else if (auto* m = msg.get_if<CutDue>()) {
    on_cut_due(m->generation);
  } else if (msg.is<Sync>()) {
    sync();
    self().runtime().send_after(self().self(), s_.config.sync_interval, Sync{});
  } else if (msg.is<Purge>()) {
    purge();
    self().runtime().send_after(self().self(), s_.config.storage_purge_interval, Purge{});
  } else if (auto* m = msg.get_if<FenceDue>()) {
    on_fence_due(*m);
  } else if (auto* m = msg.get_if<LocalResize>()) {
    self().runtime().log(LogLevel::kInfo, "hub " + s_.config.hub_id + ": the cluster size is " +
                                              std::to_string(m->size) + " from now on");
    quorum_turned(quorum_.resize(m->size, self().runtime().now_ms()));
  } else if (auto* m = msg.get_if<LocalLeave>()) {
    leave(std::move(*m));
  } else if (auto* m = msg.get_if<LocalWhich>()) {
    which(std::move(*m));
  } else if (auto* m = msg.get_if<WhichChildren>()) {
    WhichChildrenReply reply = local_children(m->call());
    send_to(m->caller(), std::move(reply));
  } else if (auto* m = msg.get_if<WhichChildrenReply>()) {
    which_reply(*m);
  } else if (auto* m = msg.get_if<WhichTimeout>()) {
    which_done(m->call);
  } else {
    Server::handle_info(msg);
  }
}

void HubServer::flush() {
  write_store();
  if (!delta_.empty()) send_delta();
  for (auto& [to, reply] : start_replies_) send_to(to.first, std::move(reply));
  start_replies_.clear();
  for (auto& [to, reply] : stop_replies_) send_to(to.first, std::move(reply));
  stop_replies_.clear();
  s_.locked.store(!decider_.ready(), std::memory_order_relaxed);
  s_.synced.store(decider_.ready() && all_reached_in_view(), std::memory_order_relaxed);
  if (!reported_ready_ && decider_.ready()) {
    reported_ready_ = true;
    hook(HookEvent::kPostRedistribution,
         Redistribution{decider_.view().number(), decider_.take_moves()});
  }
}

// ---- Records

void HubServer::apply(const RecordPtr& record) {
  bool hooked = s_.hooks.wanted(HookEvent::kChildRegistered) ||
                s_.hooks.wanted(HookEvent::kChildUnregistered) ||
                s_.hooks.wanted(HookEvent::kChildPidUpdated);
  bool counted = s_.config.distribution->reads_loads();
  RecordPtr old = hooked || counted ? s_.registry.find(record->id) : nullptr;
  if (s_.registry.apply(record) == Applied::kStale) return;
  s_.counters.records_applied.fetch_add(1, std::memory_order_relaxed);
  keep(record);
  if (hooked) record_hooks(old, record);
  if (counted) count_loads(old, record);
  debug(s_, [&] {
    return "applies " + record->id + " epoch " + std::to_string(record->epoch >> 32) + "." +
           std::to_string(record->epoch & 0xffffffff) + (record->tombstone ? " tombstone" : "") +
           (record->pids.empty() ? " (no pid)" : " on " + s_.node.node_name(record->pids.front()));
  });
  if (record->tombstone) {
    tombstones_.emplace_back(self().runtime().now_ms(), record);
    supervisor_->forget_ended(record->id, *record);
    // A stop ends its incarnation everywhere: a copy of it that still runs
    // here (started on the other side of a split, or by a round that had
    // not heard of the stop) stops now.
    if (supervisor_->halt_ended(*record)) {
      debug(s_, [&] { return "halts " + record->id + " here: its incarnation was stopped"; });
    }
  } else {
    supervisor_->adopt(record);
  }
  // A hot swap's commit (or anything newer): senders hold no more, and the
  // copy that handed the child over has nothing left to forward.
  if (!holding_.empty()) {
    if (auto h = holding_.find(record->id); h != holding_.end() && record->epoch > h->second.move) {
      end_hold(record->id);
    }
  }
  if (auto h = handed_.find(record->id); h != handed_.end()) {
    // The version the new copy started as (no pid: a round learned it from
    // that copy's claim) is not the commit: senders with an older record
    // still reach the child through the old copy, which forwards on.
    if (record->epoch <= h->second.move) return;
    handed_.erase(h);
  }
  if (supervisor_->has_handed_over(record->id)) supervisor_->halt(record->id);
}

void HubServer::hook(HookEvent event, const HookData& data) {
  s_.hooks.run(event, data, self().runtime());
}

void HubServer::record_hooks(const RecordPtr& old, const RecordPtr& now) {
  bool was = old && !old->tombstone;
  bool is = !now->tombstone;
  if (!was && is) {
    hook(HookEvent::kChildRegistered, ChildChange{now->id, s_.node_pids(*now)});
  } else if (was && !is) {
    hook(HookEvent::kChildUnregistered, ChildChange{now->id, s_.node_pids(*old)});
  } else if (was && is && !(old->pids == now->pids)) {
    hook(HookEvent::kChildPidUpdated, PidUpdate{now->id, s_.node_pids(*old), s_.node_pids(*now)});
  }
}

void HubServer::count_loads(const RecordPtr& old, const RecordPtr& now) {
  auto node_of = [&](const RecordPtr& r) {
    return !r || r->tombstone || r->pids.empty() ? std::string()
           : r->pids.front().node == 0           ? s_.self.node
                                                 : s_.node.node_name(r->pids.front());
  };
  std::string before = node_of(old), after = node_of(now);
  if (before == after) return;
  if (!before.empty()) {
    auto it = s_.loads.find(before);
    if (it != s_.loads.end() && it->second > 0 && --it->second == 0) s_.loads.erase(it);
  }
  if (!after.empty()) ++s_.loads[after];
}

bool HubServer::learn(const RecordPtr& record) {
  bool news =
      s_.registry.find(record->id) == nullptr || record->newer_than(*s_.registry.find(record->id));
  if (news) apply(record);
  return news;
}

void HubServer::purge() {
  int64_t now = self().runtime().now_ms();
  int64_t ttl = s_.config.tombstone_ttl.count();
  while (!tombstones_.empty() && tombstones_.front().first <= now - ttl) {
    const RecordPtr& t = tombstones_.front().second;
    forget_tombstone(t);
    s_.registry.erase_tombstone(t->id, t->epoch);
    tombstones_.pop_front();
  }
}

// ---- which_children

WhichChildrenReply HubServer::local_children(uint64_t call) {
  WhichChildrenReply reply;
  reply.set_call(call);
  reply.set_node(s_.self.node);
  for (const LocalSupervisor::Copy& c : supervisor_->running()) {
    if (!c.node.empty() || c.awaits_state) continue;  // handed over, or not yet
    reply.add_ids(c.record->id);
    s_.node.to_proto(c.pid, reply.add_pids());
  }
  return reply;
}

void HubServer::which(LocalWhich w) {
  uint64_t call = s_.next_call.fetch_add(1);
  Which& pending = which_[call];
  pending.future = std::move(w.future);
  std::vector<std::string> ask;
  if (w.global) {
    for (const strategies::Member& m : decider_.view().members()) ask.push_back(m.node);
  }
  for (const std::string& node : ask) {
    if (node == s_.self.node) continue;
    pending.waiting.insert(node);
    WhichChildren request;
    request.set_caller(s_.self.node);
    request.set_call(call);
    send_to(node, std::move(request));
  }
  which_reply(local_children(call));
  if (which_.count(call)) {
    self().runtime().send_after(self().self(), w.timeout, WhichTimeout{call});
  }
}

void HubServer::which_reply(const WhichChildrenReply& reply) {
  auto it = which_.find(reply.call());
  if (it == which_.end()) return;
  NodeChildren children{reply.node(), {}};
  for (int i = 0; i < reply.ids_size() && i < reply.pids_size(); ++i) {
    Result<Pid> pid = s_.node.from_proto(reply.pids(i));
    if (pid.ok()) children.children.emplace_back(reply.ids(i), *pid);
  }
  it->second.result.push_back(std::move(children));
  it->second.waiting.erase(reply.node());
  if (it->second.waiting.empty()) which_done(reply.call());
}

void HubServer::which_done(uint64_t call) {
  auto node = which_.extract(call);
  if (!node) return;
  std::sort(node.mapped().result.begin(), node.mapped().result.end(),
            [](const NodeChildren& a, const NodeChildren& b) { return a.node < b.node; });
  node.mapped().future->set(std::move(node.mapped().result));
}

// ---- Leaving

void HubServer::leave(LocalLeave leave) {
  if (leaving_ || draining_) {
    leave.future->set(Status(StatusCode::kNotFound, "hub " + s_.config.hub_id + " is stopping"));
    return;
  }
  leave_future_ = std::move(leave.future);
  if (!s_.config.migration->hands_over() || decider_.view().size() < 2) {
    leave_cold();
    return;
  }
  draining_ = true;
  HubDrain drain;
  set_from(drain.mutable_from());
  for (const strategies::Member& m : decider_.view().members()) {
    if (m.node != s_.self.node) send_to(m.node, HubDrain(drain));
  }
  decider_.drain_member(s_.self);
  self().runtime().send_after(self().self(), 2 * s_.config.migr_base_timeout, DrainDue{});
  leave_if_empty();
}

void HubServer::leave_cold() {
  leaving_ = true;
  // A cold swap: the children stop here first, then the others start them.
  for (const std::string& id : supervisor_->ids()) supervisor_->halt(id);
  leave_if_empty();
}

void HubServer::leave_if_empty() {
  if ((leaving_ || draining_) && supervisor_->size() == 0) finish_leave();
}

void HubServer::finish_leave() {
  hook(HookEvent::kShutdown, Shutdown{s_.self.node});
  HubLeave bye;
  set_from(bye.mutable_from());
  for (const auto& [node, member] : members_) send_to(node, HubLeave(bye));
  (void)self().runtime().unregister(s_.server_name);
  stop(ExitReason::normal());
}

}  // namespace plexus::hub::detail

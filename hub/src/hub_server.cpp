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
    : state_(std::move(state)), s_(*state_), keeper_(s_.self), decider_(s_, *this) {}

template <class M>
void HubServer::send_to(const std::string& member, M&& msg) {
  (void)s_.node.send(member, s_.server_name, std::forward<M>(msg));
}

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
  calls_.emplace(s_, self(), decider_, [this](const RecordPtr& r) {
    apply(r);
    decider_.learned(r);
  });
  s_.node.subscribe(self().self());
  for (const std::string& node : s_.node.nodes()) hello(node, true);
  Runtime& rt = self().runtime();
  rt.send_after(self().self(), s_.config.hubs_discover_interval, Discover{});
  rt.send_after(self().self(), s_.config.sync_interval, Sync{});
  rt.send_after(self().self(), s_.config.storage_purge_interval, Purge{});
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
  while (!local_running_.empty() || !local_halted_.empty()) {
    std::vector<ChildRunning> running;
    std::vector<ChildHalted> halted;
    running.swap(local_running_);
    halted.swap(local_halted_);
    for (const ChildRunning& r : running) decider_.child_running(s_.self.node, r);
    for (const ChildHalted& h : halted) decider_.child_halted(s_.self.node, h);
  }
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
  } else if (auto* m = msg.get_if<HubRenew>()) {
    if (m->view() == keeper_.view().number() && keeper_.is_claimant()) {
      keeper_.renew();
      membership_changed();
    }
  } else if (auto* m = msg.get_if<HubRefused>()) {
    on_refused(*m);
  } else if (auto* m = msg.get_if<NodeUp>()) {
    hello(m->node, true);
  } else if (auto* m = msg.get_if<NodeDown>()) {
    member_gone(m->node);
  } else if (auto* m = msg.get_if<Propose>()) {
    on_propose(m->generation);
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
  } else if (msg.is<Sync>()) {
    sync();
    self().runtime().send_after(self().self(), s_.config.sync_interval, Sync{});
  } else if (msg.is<Purge>()) {
    purge();
    self().runtime().send_after(self().self(), s_.config.storage_purge_interval, Purge{});
  } else if (auto* m = msg.get_if<LocalLeave>()) {
    leave(std::move(*m));
  } else {
    Server::handle_info(msg);
  }
}

void HubServer::flush() {
  if (!delta_.empty()) {
    RecordsDelta delta;
    delta.set_view(decider_.view().number());
    for (const RecordPtr& r : delta_) encode(*r, s_.node, delta.add_records());
    delta_.clear();
    std::vector<std::string> peers;
    for (const strategies::Member& m : decider_.view().members()) {
      if (m.node != s_.self.node) peers.push_back(m.node);
    }
    for (size_t i = 0; i < peers.size(); ++i) {
      if (i + 1 < peers.size()) {
        send_to(peers[i], RecordsDelta(delta));
      } else {
        send_to(peers[i], std::move(delta));
      }
    }
  }
  for (auto& [to, reply] : start_replies_) send_to(to.first, std::move(reply));
  start_replies_.clear();
  for (auto& [to, reply] : stop_replies_) send_to(to.first, std::move(reply));
  stop_replies_.clear();
  s_.locked.store(!decider_.ready(), std::memory_order_relaxed);
  if (!reported_ready_ && decider_.ready()) {
    reported_ready_ = true;
    hook(HookEvent::kPostRedistribution,
         Redistribution{decider_.view().number(), decider_.take_moves()});
  }
}

// ---- Membership and views

void HubServer::hello(const std::string& node, bool answer) {
  HubHello h;
  set_from(h.mutable_from());
  h.set_signature(s_.signature);
  encode(keeper_.view(), h.mutable_view());
  h.set_answer(answer);
  send_to(node, std::move(h));
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
  known_.insert(node);
  auto [it, fresh] = members_.try_emplace(node, member);
  if (!fresh && it->second.creation != member.creation) {
    if (uint32_t old = node_number(it->second)) s_.live.set_down(old);
    it->second = member;
    fresh = true;
  }
  if (uint32_t n = node_number(member)) s_.live.set_up(n);
  if (fresh) {
    keeper_.member_up(member);
    // A member of this view that comes back lost the connection for a
    // while: the view is made again, so nothing lost with it is missed.
    if (lost_.erase(node) && keeper_.view().contains(node)) renew();
    membership_changed();
  }
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
  keeper_.member_down(node);
  membership_changed();
}

void HubServer::membership_changed() {
  // One view for a burst of changes: the last one's timer proposes.
  self().runtime().send_after(self().self(), s_.config.view_debounce,
                              Propose{++propose_generation_});
}

void HubServer::on_propose(uint64_t generation) {
  if (generation != propose_generation_ || leaving_) return;
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
  s_.set_view(view);
  decider_.adopt(view);
  // Members this node reaches that the view leaves out learn its number, so
  // their claimant numbers its next view above it.
  for (const auto& [node, member] : members_) {
    if (!view.contains(node)) send_view(node, true);
  }
  for (const strategies::Member& m : view.members()) {
    if (m.node != s_.self.node) send_to(m.node, handoff_for(m.node));
  }
  decider_.own_handoff(supervisor_->running(), supervisor_->ended());
  if (!joined.empty()) hook(HookEvent::kPostNodeJoin, NodeJoin{joined});
  if (!left.empty()) hook(HookEvent::kPostNodeLeave, NodeLeave{left});
}

Handoff HubServer::handoff_for(const std::string& member) {
  Handoff h;
  set_from(h.mutable_from());
  h.set_view(decider_.view().number());
  for (const RecordPtr& r : supervisor_->running()) {
    if (decider_.owner(r->segment) == member) encode(*r, s_.node, h.add_running());
  }
  for (const RecordPtr& r : supervisor_->ended()) {
    if (decider_.owner(r->segment) == member) encode(*r, s_.node, h.add_ended());
  }
  add_digests(s_, decider_, member, &h);
  return h;
}

// ---- This node as a member running children

Result<Pid> HubServer::run_here(const RecordPtr& record) {
  bool hooked = s_.hooks.wanted(HookEvent::kPreChildrenStart) ||
                s_.hooks.wanted(HookEvent::kPostChildrenStart);
  if (hooked) hook(HookEvent::kPreChildrenStart, ChildrenStart{{record->id}, {}});
  Result<Pid> pid = supervisor_->run(record);
  if (hooked && pid.ok()) {
    hook(HookEvent::kPostChildrenStart,
         ChildrenStart{{record->id}, {StartedChild{record->id, {{s_.self.node, *pid}}}}});
  }
  return pid;
}

void HubServer::on_run(const RunChild& run) {
  ChildRunning answer;
  answer.set_from(s_.self.node);
  answer.set_view(run.view());
  answer.set_id(run.record().id());
  answer.set_epoch(run.record().epoch());
  if (leaving_) {
    answer.set_error("leaving");
  } else if (run.view() != decider_.view().number()) {
    answer.set_error("stale_view");
  } else if (Result<RecordPtr> r = decode(run.record(), s_.node, s_.registry.segments()); !r.ok()) {
    answer.set_error(r.status().message());
  } else if (Result<Pid> pid = run_here(*r); pid.ok()) {
    s_.node.to_proto(*pid, answer.mutable_pid());
  } else if (Pid running = supervisor_->running_pid(run.record().id())) {
    s_.node.to_proto(running, answer.mutable_pid());
  } else {
    answer.set_error(pid.status().message());
  }
  send_to(run.from(), std::move(answer));
}

void HubServer::on_halt(const HaltChild& halt) {
  if (halt.view() != decider_.view().number()) return;  // a stale decider's
  if (supervisor_->halt(halt.id())) {
    halt_waiters_[halt.id()].push_back(halt.from());
    return;
  }
  ChildHalted done;
  done.set_from(s_.self.node);
  done.set_view(halt.view());
  done.set_id(halt.id());
  send_to(halt.from(), std::move(done));
}

void HubServer::on_exit(const Exit& exit) {
  LocalSupervisor::Outcome out = supervisor_->on_exit(exit);
  debug(s_, [&] {
    static const char* kinds[] = {"not mine", "halted", "restarted", "ended"};
    return "exit of " + exit.from.to_string() + " (" + exit.reason.to_string() +
           "): " + kinds[out.kind] + (out.record ? " " + out.record->id : "");
  });
  switch (out.kind) {
    case LocalSupervisor::Outcome::kNotMine:
      return;
    case LocalSupervisor::Outcome::kHalted: {
      auto waiters = halt_waiters_.extract(out.record->id);
      if (waiters) {
        for (const std::string& decider : waiters.mapped()) {
          ChildHalted done;
          done.set_from(s_.self.node);
          done.set_view(decider_.view().number());
          done.set_id(out.record->id);
          if (decider == s_.self.node) {
            decider_.child_halted(s_.self.node, done);
          } else {
            send_to(decider, std::move(done));
          }
        }
      }
      if (leaving_ && supervisor_->size() == 0) finish_leave();
      return;
    }
    case LocalSupervisor::Outcome::kRestarted:
      event(out.record, true);
      return;
    case LocalSupervisor::Outcome::kEnded:
      event(out.record, false);
      return;
  }
}

void HubServer::event(const RecordPtr& record, bool restarted) {
  ChildEvent e;
  e.set_from(s_.self.node);
  e.set_view(decider_.view().number());
  e.set_id(record->id);
  e.set_epoch(record->epoch);
  if (restarted) s_.node.to_proto(record->pids.front(), e.mutable_pid());
  const std::string& owner = decider_.owner(record->segment);
  if (owner == s_.self.node) {
    decider_.child_event(owner, e);
  } else {
    send_to(owner, std::move(e));
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
  } else {
    supervisor_->adopt(record);
  }
}

std::vector<NodePid> HubServer::node_pids(const ChildRecord& record) const {
  std::vector<NodePid> out;
  for (Pid pid : record.pids)
    out.push_back({pid.node == 0 ? s_.self.node : s_.node.node_name(pid), pid});
  return out;
}

void HubServer::hook(HookEvent event, const HookData& data) {
  s_.hooks.run(event, data, self().runtime());
}

void HubServer::record_hooks(const RecordPtr& old, const RecordPtr& now) {
  bool was = old && !old->tombstone;
  bool is = !now->tombstone;
  if (!was && is) {
    hook(HookEvent::kChildRegistered, ChildChange{now->id, node_pids(*now)});
  } else if (was && !is) {
    hook(HookEvent::kChildUnregistered, ChildChange{now->id, node_pids(*old)});
  } else if (was && is && !(old->pids == now->pids)) {
    hook(HookEvent::kChildPidUpdated, PidUpdate{now->id, node_pids(*old), node_pids(*now)});
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

RecordPtr HubServer::decode_or_log(const ChildRecordProto& proto) {
  Result<RecordPtr> r = decode(proto, s_.node, s_.registry.segments());
  if (r.ok()) return *r;
  self().runtime().log(LogLevel::kWarning,
                       "hub " + s_.config.hub_id + ": dropped a record: " + r.status().message());
  return nullptr;
}

void HubServer::on_delta(const RecordsDelta& delta) {
  for (const ChildRecordProto& p : delta.records()) {
    if (RecordPtr r = decode_or_log(p)) {
      apply(r);
      decider_.learned(r);
    }
  }
}

void HubServer::on_records(const SegmentRecords& records) {
  if (records.round() != 0) {
    decider_.segment_records(records);
  } else {
    for (const ChildRecordProto& p : records.records()) {
      if (RecordPtr r = decode_or_log(p)) {
        apply(r);
        decider_.learned(r);
      }
    }
  }
  if (records.wanted_size() == 0) return;
  // The sender wants this node's records of those segments back.
  SegmentRecords back;
  set_from(back.mutable_from());
  back.set_view(decider_.view().number());
  back.set_round(records.round());
  std::vector<uint32_t> wanted;
  for (uint32_t s : records.wanted()) {
    if (s < s_.registry.segments().count()) wanted.push_back(s);
  }
  add_segments(s_, wanted, &back);
  send_to(records.from().node(), std::move(back));
}

void HubServer::on_summary(const DigestSummary& summary) {
  if (!members_.count(summary.from().node())) return;
  if (!summary.answer()) {
    if (std::optional<DigestSummary> d = detail(s_, summary)) {
      send_to(summary.from().node(), std::move(*d));
    }
  } else if (std::optional<SegmentRecords> r = differing(s_, summary, quiet_)) {
    send_to(summary.from().node(), std::move(*r));
  }
}

void HubServer::sync() {
  quiet_.round(s_);
  const auto& members = decider_.view().members();
  if (members.size() < 2 || !decider_.ready()) return;
  sync_next_ = (sync_next_ + 1) % members.size();
  if (members[sync_next_].node == s_.self.node) sync_next_ = (sync_next_ + 1) % members.size();
  send_to(members[sync_next_].node, summarize(s_));
}

void HubServer::purge() {
  int64_t now = self().runtime().now_ms();
  int64_t ttl = s_.config.tombstone_ttl.count();
  while (!tombstones_.empty() && tombstones_.front().first <= now - ttl) {
    const RecordPtr& t = tombstones_.front().second;
    s_.registry.erase_tombstone(t->id, t->epoch);
    tombstones_.pop_front();
  }
}

// ---- Leaving

void HubServer::leave(LocalLeave leave) {
  if (leaving_) {
    leave.future->set(Status(StatusCode::kNotFound, "hub " + s_.config.hub_id + " is stopping"));
    return;
  }
  leaving_ = true;
  leave_future_ = std::move(leave.future);
  // A cold swap: the children stop here first, then the others start them.
  for (const std::string& id : supervisor_->ids()) supervisor_->halt(id);
  if (supervisor_->size() == 0) finish_leave();
}

void HubServer::finish_leave() {
  hook(HookEvent::kShutdown, Shutdown{s_.self.node});
  HubLeave bye;
  set_from(bye.mutable_from());
  for (const auto& [node, member] : members_) send_to(node, HubLeave(bye));
  (void)self().runtime().unregister(s_.server_name);
  stop(ExitReason::normal());
}

// ---- DeciderPort

void HubServer::run_on(const std::string& node, const RecordPtr& record) {
  debug(s_, [&] { return "runs " + record->id + " on " + node; });
  if (node != s_.self.node) {
    RunChild run;
    run.set_from(s_.self.node);
    run.set_view(decider_.view().number());
    encode(*record, s_.node, run.mutable_record());
    send_to(node, std::move(run));
    return;
  }
  // Here: at once; the answer is handed to the decider once the message
  // being handled is done (handle_info), as if it came from a member.
  ChildRunning answer;
  answer.set_from(s_.self.node);
  answer.set_view(decider_.view().number());
  answer.set_id(record->id);
  answer.set_epoch(record->epoch);
  if (leaving_) {
    answer.set_error("leaving");
  } else if (Result<Pid> pid = run_here(record); pid.ok()) {
    s_.node.to_proto(*pid, answer.mutable_pid());
  } else if (Pid running = supervisor_->running_pid(record->id)) {
    s_.node.to_proto(running, answer.mutable_pid());
  } else {
    answer.set_error(pid.status().message());
  }
  local_running_.push_back(std::move(answer));
}

void HubServer::halt_on(const std::string& node, const std::string& id) {
  debug(s_, [&] { return "halts " + id + " on " + node; });
  HaltChild halt;
  halt.set_from(s_.self.node);
  halt.set_view(decider_.view().number());
  halt.set_id(id);
  if (node != s_.self.node) {
    send_to(node, std::move(halt));
  } else if (supervisor_->halt(id)) {
    halt_waiters_[id].push_back(s_.self.node);
  } else {
    ChildHalted done;
    done.set_from(s_.self.node);
    done.set_view(halt.view());
    done.set_id(id);
    local_halted_.push_back(std::move(done));
  }
}

void HubServer::publish(const RecordPtr& record) {
  debug(s_, [&] {
    std::string pids;
    for (Pid p : record->pids) pids += " " + s_.node.node_name(p) + p.to_string();
    return "publishes " + record->id + " epoch " + std::to_string(record->epoch >> 32) + "." +
           std::to_string(record->epoch & 0xffffffff) + (record->tombstone ? " tombstone" : "") +
           pids;
  });
  apply(record);
  delta_.push_back(record);
}

void HubServer::started(const std::string& caller, uint64_t call, const RecordPtr& record) {
  if (caller == s_.self.node) {
    local_started_[call].push_back(record);
    return;
  }
  StartReply& reply = start_replies_[{caller, call}];
  reply.set_call(call);
  encode(*record, s_.node, reply.add_started(), /*with_spec=*/false);
}

void HubServer::stopped(const std::string& caller, uint64_t call, const RecordPtr& tombstone,
                        const std::vector<std::string>& nodes) {
  StopReply& reply = stop_replies_[{caller, call}];
  reply.set_call(call);
  encode(*tombstone, s_.node, reply.add_stopped());
  std::string joined;
  for (const std::string& n : nodes) joined += (joined.empty() ? "" : ",") + n;
  reply.add_nodes(std::move(joined));
}

void HubServer::failed(const std::string& caller, uint64_t call, bool start,
                       ChildErrorProto error) {
  if (start) {
    StartReply& reply = start_replies_[{caller, call}];
    reply.set_call(call);
    *reply.add_errors() = std::move(error);
  } else {
    StopReply& reply = stop_replies_[{caller, call}];
    reply.set_call(call);
    *reply.add_errors() = std::move(error);
  }
}

void HubServer::forward_start(const std::string& member, StartRequest request) {
  if (s_.hooks.wanted(HookEvent::kChildForwarded)) {
    Forwarded f{{}, member};
    for (const ChildSpecProto& spec : request.specs()) f.ids.push_back(spec.id());
    hook(HookEvent::kChildForwarded, f);
  }
  send_to(member, std::move(request));
}

void HubServer::forward_stop(const std::string& member, StopRequest request) {
  send_to(member, std::move(request));
}

void HubServer::migrated(const std::string& id, const std::string& from, const std::string& to) {
  hook(HookEvent::kChildMigrated, Migration{id, from, to});
}

void HubServer::send_records(const std::string& member, SegmentRecords records) {
  send_to(member, std::move(records));
}

}  // namespace plexus::hub::detail

// HubServer: the children this member runs, and the port its decider acts
// through (hub_server.h).
#include <algorithm>
#include <set>

#include "hub_server.h"
#include "plexus/pid.pb.h"
#include "record_codec.h"
#include "segment_transfer.h"

namespace plexus::hub::detail {

// ---- This node as a member running children

Result<Pid> HubServer::run_here(const RecordPtr& record, bool migration_target,
                                const std::string* saved_state) {
  bool hooked = s_.hooks.wanted(HookEvent::kPreChildrenStart) ||
                s_.hooks.wanted(HookEvent::kPostChildrenStart);
  if (hooked) hook(HookEvent::kPreChildrenStart, ChildrenStart{{record->id}, {}});
  Result<Pid> pid = supervisor_->run(record, migration_target, saved_state);
  if (pid.ok()) keep_started(record, saved_state);
  if (pid.ok() && migration_target) {
    // A target whose handover never comes (its move lost with a view) goes.
    self().runtime().send_after(self().self(), 2 * s_.config.migr_base_timeout,
                                TargetDue{record->id, *pid});
  }
  (pid.ok() ? s_.counters.children_started : s_.counters.start_failures)
      .fetch_add(1, std::memory_order_relaxed);
  s_.counters.local_children.store(supervisor_->size(), std::memory_order_relaxed);
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
  if (leaving_ || draining_) {
    answer.set_error("leaving");
  } else if (run.view() != decider_.view().number()) {
    answer.set_error("stale_view");
  } else if (Result<RecordPtr> r = decode(run.record(), s_.node, s_.registry.segments()); !r.ok()) {
    answer.set_error(r.status().message());
  } else {
    run_for_decider(*r, run.migration_target(),
                    run.has_saved_state() ? &run.saved_state() : nullptr, &answer);
  }
  write_store();  // what the decider commits from this answer is kept here
  send_to(run.from(), std::move(answer));
}

void HubServer::run_for_decider(const RecordPtr& record, bool migration_target,
                                const std::string* saved_state, ChildRunning* answer) {
  if (s_.partitioned()) {
    answer->set_error("partitioned");
    return;
  }
  if (Result<Pid> pid = run_here(record, migration_target, saved_state); pid.ok()) {
    s_.node.to_proto(*pid, answer->mutable_pid());
  } else if (Pid running = supervisor_->running_pid(record->id)) {
    s_.node.to_proto(running, answer->mutable_pid());
    answer->set_existing(migration_target && !supervisor_->awaits_state(record->id));
  } else {
    answer->set_error(pid.status().message());
  }
}

void HubServer::on_halt(const HaltChild& halt) {
  if (halt.view() != decider_.view().number()) return;  // a stale decider's
  if (supervisor_->halt(halt.id())) {
    halt_waiters_[halt.id()].push_back(halt.from());
    return;
  }
  send_to(halt.from(), halted(halt.id(), halt.view()));
}

ChildHalted HubServer::halted(const std::string& id, uint64_t view) {
  ChildHalted done;
  done.set_from(s_.self.node);
  done.set_view(view);
  done.set_id(id);
  if (s_.store) {
    write_store();  // what the child saved last is in the store
    if (std::optional<std::string> state = s_.store->state_of(id)) done.set_saved_state(*state);
  }
  return done;
}

void HubServer::on_exit(const Exit& exit) {
  LocalSupervisor::Outcome out = supervisor_->on_exit(exit);
  debug(s_, [&] {
    static const char* kinds[] = {"not mine", "halted", "restarted", "ended"};
    return "exit of " + exit.from.to_string() + " (" + exit.reason.to_string() +
           "): " + kinds[out.kind] + (out.record ? " " + out.record->id : "");
  });
  s_.counters.local_children.store(supervisor_->size(), std::memory_order_relaxed);
  switch (out.kind) {
    case LocalSupervisor::Outcome::kNotMine:
      return;
    case LocalSupervisor::Outcome::kHalted: {
      s_.counters.children_halted.fetch_add(1, std::memory_order_relaxed);
      auto waiters = halt_waiters_.extract(out.record->id);
      if (waiters) {
        for (const std::string& decider : waiters.mapped()) {
          ChildHalted done = halted(out.record->id, decider_.view().number());
          if (decider == s_.self.node) {
            decider_.child_halted(s_.self.node, done);
          } else {
            send_to(decider, std::move(done));
          }
        }
      }
      leave_if_empty();
      return;
    }
    case LocalSupervisor::Outcome::kRestarted:
      s_.counters.children_restarted.fetch_add(1, std::memory_order_relaxed);
      event(out.record, out.pid);
      return;
    case LocalSupervisor::Outcome::kEnded:
      s_.counters.children_ended.fetch_add(1, std::memory_order_relaxed);
      event(out.record, Pid{});
      leave_if_empty();
      return;
  }
}

void HubServer::event(const RecordPtr& record, Pid restarted_as) {
  ChildEvent e;
  e.set_from(s_.self.node);
  e.set_view(decider_.view().number());
  e.set_id(record->id);
  e.set_epoch(record->epoch);
  if (restarted_as) s_.node.to_proto(restarted_as, e.mutable_pid());
  const std::string& owner = decider_.owner(record->segment);
  if (owner == s_.self.node) {
    decider_.child_event(owner, e);
  } else {
    send_to(owner, std::move(e));
  }
}

// ---- DeciderPort

void HubServer::run_on(const std::string& node, const RecordPtr& record, bool migration_target,
                       const std::shared_ptr<const std::string>& saved_state) {
  debug(s_, [&] {
    return "runs " + record->id + " on " + node + (migration_target ? " (migration target)" : "");
  });
  if (node != s_.self.node) {
    RunChild run;
    run.set_from(s_.self.node);
    run.set_view(decider_.view().number());
    run.set_migration_target(migration_target);
    if (saved_state) run.set_saved_state(*saved_state);
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
  if (leaving_ || draining_) {
    answer.set_error("leaving");
  } else {
    run_for_decider(record, migration_target, saved_state.get(), &answer);
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
    local_halted_.push_back(halted(id, halt.view()));
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
  s_.counters.migrations.fetch_add(1, std::memory_order_relaxed);
  hook(HookEvent::kChildMigrated, Migration{id, from, to});
}

void HubServer::send_records(const std::string& member, SegmentRecords records) {
  send_to(member, std::move(records));
}

}  // namespace plexus::hub::detail

#include "local_supervisor.h"

#include <algorithm>

#include "handover_messages.h"
#include "plexus/hub/handover.h"
#include "plexus/hub/redundancy_signal.h"

namespace plexus::hub::detail {

namespace {

uint64_t key_of(Pid pid) { return uint64_t{pid.index} << 32 | pid.serial; }

}  // namespace

Result<Pid> LocalSupervisor::spawn(const ChildSpec& spec, bool migration_target,
                                   const std::string* saved_state) {
  Result<Pid> pid = state_.node.spawn_local(spec.type, spec.init_args, self_.self());
  if (!pid.ok()) return pid;
  // Its first messages: no one else knows the pid yet.
  if (saved_state) {
    (void)self_.send(*pid, ChildStart{state_.config.hub_id, spec.id, true, true});
    (void)self_.send(*pid, Handover{state_.config.hub_id, spec.id, *saved_state});
  } else if (state_.config.migration->hands_over() || state_.store) {
    (void)self_.send(*pid, ChildStart{state_.config.hub_id, spec.id, migration_target});
  }
  return pid;
}

Result<Pid> LocalSupervisor::run(const RecordPtr& record, bool migration_target,
                                 const std::string* saved_state) {
  if (auto it = children_.find(record->id); it != children_.end() && it->second.handed_to) {
    // A copy that only forwards, to a copy the decider no longer knows (its
    // node left with the state): it ends, and the child starts here.
    halt(record->id);
    --handed_over_;
    children_.erase(it);  // its exit finds no child of its pid; the timeout kills it
  } else if (it != children_.end()) {
    if (it->second.awaits_state) {
      if (migration_target) {
        it->second.awaits_move = record->epoch;  // the newer move's state
      } else {
        // A target left by a move that ended otherwise, asked to run the
        // child: it starts afresh.
        give_state(record->id, 0, std::nullopt);
      }
    }
    return Status(StatusCode::kAlreadyExists, "already_started");
  }
  Result<Pid> pid = spawn(*record->spec, migration_target && !saved_state, saved_state);
  if (!pid.ok()) return pid;
  ended_.erase(record->id);
  by_pid_[key_of(*pid)] = record->id;
  children_.insert_or_assign(
      record->id, Child{.record = record,
                        .pid = *pid,
                        .intensity = RestartIntensity(
                            state_.config.dsup_max_restarts,
                            std::chrono::milliseconds(state_.config.dsup_max_seconds).count()),
                        .awaits_state = migration_target && !saved_state,
                        .awaits_move = migration_target && !saved_state ? record->epoch : 0});
  return pid;
}

bool LocalSupervisor::give_state(std::string_view id, uint64_t move,
                                 std::optional<std::string> state) {
  auto it = children_.find(std::string(id));
  if (it == children_.end() || !it->second.awaits_state) return false;
  if (move != 0 && it->second.awaits_move != move) return false;
  it->second.awaits_state = false;
  (void)self_.send(it->second.pid,
                   Handover{state_.config.hub_id, std::string(id), std::move(state)});
  return true;
}

bool LocalSupervisor::awaits_state(std::string_view id) const {
  auto it = children_.find(std::string(id));
  return it != children_.end() && it->second.awaits_state;
}

RecordPtr LocalSupervisor::handed_over(std::string_view id, const std::string& node, Pid pid) {
  auto it = children_.find(std::string(id));
  if (it == children_.end()) return nullptr;
  if (!it->second.handed_to) {
    it->second.handed_to_node = node;
    it->second.handed_to = pid;
    ++handed_over_;
  }
  return it->second.record;
}

bool LocalSupervisor::has_handed_over(std::string_view id) const {
  // Every record applied asks: nearly always none has.
  if (handed_over_ == 0) return false;
  auto it = children_.find(std::string(id));
  return it != children_.end() && it->second.handed_to;
}

bool LocalSupervisor::halt(std::string_view id, std::chrono::milliseconds at_most) {
  auto it = children_.find(std::string(id));
  if (it == children_.end()) return false;
  Child& c = it->second;
  if (!c.halting) {
    c.halting = true;
    if (c.handed_to) {
      // It forwards what came before this, then ends (the timeout kills a
      // copy that does not end).
      (void)self_.send(c.pid, ForwardingEnds{});
    } else {
      self_.exit(c.pid, ExitReason::shutdown());
    }
    self_.runtime().send_after(self_.self(), std::min(c.record->spec->shutdown, at_most),
                               HaltTimeout{c.pid});
  } else if (at_most < c.record->spec->shutdown) {
    // Halting already, with longer to go than `at_most` allows.
    self_.runtime().send_after(self_.self(), at_most, HaltTimeout{c.pid});
  }
  return true;
}

bool LocalSupervisor::halt_ended(const ChildRecord& tombstone) {
  auto it = children_.find(tombstone.id);
  if (it == children_.end() || it->second.halting) return false;
  if (it->second.record->origin > tombstone.origin) return false;
  return halt(tombstone.id);
}

void LocalSupervisor::on_halt_timeout(Pid pid) {
  auto it = by_pid_.find(key_of(pid));
  if (it == by_pid_.end()) return;
  auto child = children_.find(it->second);
  // (A pid known with no child of it is a forwarder that run() set aside.)
  if (child == children_.end() || child->second.pid != pid || child->second.halting) {
    self_.exit(pid, ExitReason::kill());
  }
}

LocalSupervisor::Outcome LocalSupervisor::on_exit(const Exit& exit) {
  auto by = by_pid_.find(key_of(exit.from));
  if (by == by_pid_.end() || exit.from.node != 0) return {};
  std::string id = std::move(by->second);
  by_pid_.erase(by);
  auto it = children_.find(id);
  if (it == children_.end() || it->second.pid != exit.from) return {};
  Child child = std::move(it->second);
  children_.erase(it);
  // A copy that handed its child over ends as if halted: the child lives on.
  if (child.handed_to) --handed_over_;
  if (child.halting || child.handed_to) return {Outcome::kHalted, child.record, child.pid};
  if (restarts(child.record->spec->restart, exit.reason)) {
    if (!child.intensity.exceeded(self_.runtime().now_ms())) {
      Result<Pid> pid = spawn(*child.record->spec, child.awaits_state, nullptr);
      if (pid.ok()) {
        child.pid = *pid;
        child.mode.reset();
        by_pid_[key_of(*pid)] = id;
        RecordPtr record = child.record;
        children_.insert_or_assign(id, std::move(child));
        return {Outcome::kRestarted, record, *pid};
      }
      self_.runtime().log(LogLevel::kError, "hub " + state_.config.hub_id + ": child " + id +
                                                " cannot restart: " + pid.status().message());
    } else {
      self_.runtime().log(LogLevel::kError, "hub " + state_.config.hub_id + ": child " + id +
                                                " restarted too often; given up");
    }
  }
  ended_[id] = child.record;
  return {Outcome::kEnded, child.record, child.pid};
}

void LocalSupervisor::adopt(const RecordPtr& record) {
  // Most records are of children on other nodes: no local pid, not ours.
  bool local = false;
  for (Pid pid : record->pids) local |= pid.node == 0;
  if (!local) return;
  auto it = children_.find(record->id);
  if (it == children_.end()) return;
  for (size_t i = 0; i < record->pids.size(); ++i) {
    if (record->pids[i] != it->second.pid) continue;
    it->second.record = record;
    tell_mode(it->second, i);
    return;
  }
}

void LocalSupervisor::tell_mode(Child& child, size_t index) {
  const strategies::Redundancy& redundancy = *state_.config.redundancy;
  strategies::Redundancy::Mode mode = redundancy.mode(index);
  if (child.mode == mode) return;
  child.mode = mode;
  if (redundancy.signals(mode)) {
    (void)self_.send(child.pid, RedundancySignal{state_.config.hub_id, child.record->id, mode});
  }
}

void LocalSupervisor::forget_ended(std::string_view id, const ChildRecord& newer) {
  auto it = ended_.find(std::string(id));
  if (it != ended_.end() && newer.newer_than(*it->second)) ended_.erase(it);
}

Pid LocalSupervisor::running_pid(std::string_view id) const {
  auto it = children_.find(std::string(id));
  return it == children_.end() ? Pid{} : it->second.pid;
}

bool LocalSupervisor::halting(std::string_view id) const {
  auto it = children_.find(std::string(id));
  return it != children_.end() && it->second.halting;
}

std::vector<LocalSupervisor::Copy> LocalSupervisor::running() const {
  std::vector<Copy> out;
  out.reserve(children_.size());
  for (const auto& [id, c] : children_) {
    if (c.halting) continue;
    if (c.handed_to) {
      out.push_back({c.record, c.handed_to, c.handed_to_node, false});
    } else {
      out.push_back({c.record, c.pid, {}, c.awaits_state});
    }
  }
  return out;
}

std::vector<RecordPtr> LocalSupervisor::ended() const {
  std::vector<RecordPtr> out;
  for (const auto& [id, r] : ended_) out.push_back(r);
  return out;
}

std::vector<std::string> LocalSupervisor::ids() const {
  std::vector<std::string> out;
  for (const auto& [id, c] : children_) out.push_back(id);
  return out;
}

}  // namespace plexus::hub::detail

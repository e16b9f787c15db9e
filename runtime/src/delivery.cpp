// Sending: delivery to a mailbox, a turn's runs, signals and what answers for
// a dead target.
#include "arrivals.h"
#include "process_info_reply.h"
#include "runtime_impl.h"

namespace plexus::detail {

namespace {

// A run longer than this is published at once, so a receiver on another core
// starts on it while the sender goes on.
constexpr int kMaxRun = 64;

}  // namespace

// ---------------------------------------------------------------- sending

void RuntimeImpl::deliver(Pid to, Envelope* env, Publish publish) {
  if (to.node != 0) [[unlikely]] {
    TurnSends::flush_local();  // keeps what the peer may relay back in order
    if (spi::Distribution* d = distribution.load(std::memory_order_acquire)) {
      d->route(to, env);
    } else {
      on_dead_target(to, env, ExitReason::noconnection());
    }
    return;
  }
  Process* p = table.get(to.index);
  if (!p || !to.valid() || p->serial.load(std::memory_order_acquire) != to.serial) {
    on_dead_target(to, env);
    return;
  }
  env->target_serial = to.serial;
  // A process's message in its turn joins the turn's run (see TurnSends),
  // unless it would start a run to a parked process: that one goes at once
  // and wakes it, as a parked receiver has nothing to batch against.
  if (publish == Publish::kMayJoinRun && TurnSends::in_turn &&
      (TurnSends::local_run.target == p || p->head.load(std::memory_order_relaxed) != kWaiting)) {
    add_to_run(p, to.serial, env);
    return;
  }
  TurnSends::flush_local();  // what the turn held back goes first
  push(p, to, env);
}

void RuntimeImpl::add_to_run(Process* p, uint32_t serial, Envelope* env) {
  TurnSends::LocalRun& run = TurnSends::local_run;
  env->next = nullptr;
  if (run.target != p || run.serial != serial) {
    TurnSends::flush_local();
    run.runtime = this;
    run.target = p;
    run.serial = serial;
    run.first = env;
    run.plain = true;
  } else {
    run.last->next = env;
  }
  run.last = env;
  run.plain &= is_plain_message(env);
  if (++run.count >= kMaxRun) TurnSends::flush_local();
}

void RuntimeImpl::push(Process* p, Pid to, Envelope* env) {
  // Read before the push: once pushed, env is the receiver's, who may have
  // taken and freed it before the CAS returns here.
  const bool exit_signal = env->kind == EnvelopeKind::kExit || env->kind == EnvelopeKind::kLinkExit;
  Envelope* old = p->head.load(std::memory_order_acquire);
  do {
    if (old == kClosed) {
      env->next = nullptr;  // a failed CAS may have linked it to others'
      for_each_arrival(env, [&](Envelope* e) { on_dead_target(to, e); });
      return;
    }
    env->next = old == kWaiting ? nullptr : old;
    // acq_rel: whoever takes over a parked process must see what its last
    // owner wrote before parking (the park CAS releases it).
  } while (!p->head.compare_exchange_weak(old, env, std::memory_order_acq_rel,
                                          std::memory_order_acquire));
  if (old == kWaiting) {
    schedule_woken(p);
  } else if (exit_signal) [[unlikely]] {
    resume_for_exit(p, to.serial);
  }
}

// Out of push's way, which every message takes.
[[gnu::noinline]] void RuntimeImpl::resume_for_exit(Process* p, uint32_t serial) {
  // A process suspended on a full peer still answers to exit signals.
  if (p->suspend.load(std::memory_order_acquire) == kSuspended) resume(p, serial);
}

thread_local constinit bool TurnSends::in_turn = false;
thread_local constinit Process* TurnSends::current = nullptr;
thread_local constinit TurnSends::LocalRun TurnSends::local_run;
thread_local constinit spi::Distribution* TurnSends::deferred = nullptr;

void TurnSends::publish_local_run() {
  LocalRun& run = local_run;
  Process* p = run.target;
  run.target = nullptr;  // before push: answering a dead target sends again
  Envelope* node = run.first;
  if (run.count > 1) {
    node = new RunEnvelope(run.first, run.last, static_cast<uint32_t>(run.count), run.plain);
    node->target_serial = run.serial;
  }
  run.count = 0;
  run.runtime->push(p, Pid{0, p->index, run.serial}, node);
}

void TurnSends::flush_deferred() {
  spi::Distribution* d = deferred;
  deferred = nullptr;  // before the call: it may send, and defer again
  d->end_of_turn();
}

void TurnSends::before_blocking() {
  if (!in_turn) return;
  flush();
  Scheduler::share_next_before_blocking();
}

void RuntimeImpl::schedule_woken(Process* p) {
  if (p->kind == ProcessKind::kInbox) {
    // Notify under the lock: the inbox thread cannot return (and destroy the
    // waiter) before we are done with it.
    auto* waiter = static_cast<InboxWaiter*>(p->inbox);
    std::lock_guard<std::mutex> lock(waiter->mu);
    waiter->signaled = true;
    waiter->cv.notify_one();
    return;
  }
  scheduler.wake(p);
}

void RuntimeImpl::on_dead_target(Pid to, Envelope* env, const ExitReason& reason) {
  switch (env->kind) {
    case EnvelopeKind::kLink:
      send_signal<Exit>(env->from, EnvelopeKind::kLinkExit, to, Ref{}, Exit{to, reason});
      break;
    case EnvelopeKind::kMonitor:
      send_signal<Down>(env->from, EnvelopeKind::kDown, to, env->ref, Down{env->ref, to, reason});
      break;
    case EnvelopeKind::kProcessInfo:
      send_signal<ProcessInfoReply>(env->from, EnvelopeKind::kMessage, to, env->ref,
                                    ProcessInfoReply{env->ref, std::nullopt});
      break;
    default:
      break;
  }
  delete env;
}

void RuntimeImpl::send_monitor(Process* watcher, Ref ref, Pid target, MonitoredName* by_name) {
  ProcessExtras& ex = extras(watcher);
  ex.monitors_out.insert(ref, target);
  Envelope* env = make_envelope<NoPayload>(EnvelopeKind::kMonitor);
  env->from = watcher->pid();
  env->ref = ref;
  if (!by_name || !by_name->remote) {
    if (by_name) ex.monitored_names.insert(ref, std::move(*by_name));
    deliver(target, env);
    return;
  }
  ex.monitored_names.insert(ref, *by_name);
  route_named(by_name->name->node, by_name->name->name, env);
}

void RuntimeImpl::send_demonitor(Process* watcher, Ref ref, Pid target) {
  if (target) {
    send_signal<NoPayload>(target, EnvelopeKind::kDemonitor, watcher->pid(), ref);
    return;
  }
  // By a name on another node: the target is known there, by the ref. (By a
  // local name with no process there is nothing to end.)
  const MonitoredName* by_name = watcher->extras->monitored_names.find(ref);
  if (!by_name || !by_name->remote) return;
  Envelope* env = make_envelope<NoPayload>(EnvelopeKind::kDemonitor);
  env->from = watcher->pid();
  env->ref = ref;
  route_named(by_name->name->node, by_name->name->name, env);
}

void RuntimeImpl::route_named(const std::string& node, const std::string& name, Envelope* env) {
  TurnSends::flush_local();  // as deliver does for another node
  if (spi::Distribution* d = distribution.load(std::memory_order_acquire)) {
    d->route_named(node, name, env);
  } else {
    on_dead_target(Pid{}, env, ExitReason::noconnection());
  }
}

const std::string& RuntimeImpl::node_name() const {
  static const std::string kNone;
  spi::Distribution* d = distribution.load(std::memory_order_acquire);
  return d ? d->node_name() : kNone;
}

void RuntimeImpl::send_exit(Pid from, Pid to, ExitReason reason) {
  if (reason.is_kill() && to.node == 0) {
    // The victim cannot survive a kill: alive() says so from now on.
    if (Process* p = table.get(to.index);
        p && p->serial.load(std::memory_order_acquire) == to.serial) {
      p->kill_pending.store(true, std::memory_order_release);
    }
  }
  send_signal<Exit>(to, EnvelopeKind::kExit, from, Ref{}, Exit{from, std::move(reason)});
}

bool RuntimeImpl::alive(Pid pid) const {
  if (!pid.valid() || pid.node != 0) return false;
  Process* p = table.get(pid.index);
  if (!p) return false;
  // Serial, state, serial: a slot being reused between the two reads is seen.
  uint32_t before = p->serial.load(std::memory_order_acquire);
  Envelope* head = p->head.load(std::memory_order_acquire);
  bool killed = p->kill_pending.load(std::memory_order_acquire);
  uint32_t after = p->serial.load(std::memory_order_acquire);
  return before == pid.serial && after == pid.serial && head != kClosed && !killed;
}

// ---------------------------------------------------------------- signals

void RuntimeImpl::drain(Process* p) {
  TurnSends::flush_local();  // a run to itself, say
  // Only the owner moves head to kWaiting or kClosed, so once a load shows
  // envelopes, the exchange takes them; a plain load keeps an empty poll off
  // the contended line.
  Envelope* list = p->head.load(std::memory_order_acquire);
  if (list == nullptr || list == kWaiting || list == kClosed) return;
  list = p->head.exchange(nullptr, std::memory_order_acquire);
  uint32_t serial = p->serial.load(std::memory_order_relaxed);
  for_each_arrival(
      list,
      [&](RunEnvelope* run) {
        if (!run->plain || run->target_serial != serial) return false;
        // The common case: a turn's messages, queued without touching each.
        p->append_private(run->first, run->last, run->count);
        return true;
      },
      [&](Envelope* env) { take_arrival(p, serial, env); });
}

void RuntimeImpl::take_arrival(Process* p, uint32_t serial, Envelope* env) {
  env->next = nullptr;
  if (env->target_serial != serial) {
    // Sent to an earlier incarnation of this slot: to a dead process.
    on_dead_target(Pid{0, p->index, env->target_serial}, env);
  } else if (is_signal(env->kind)) {
    handle_signal(p, env);
  } else if (env->kind == EnvelopeKind::kReply && env->ref != p->pending_call) {
    delete env;  // a reply that came after its call gave up
  } else {
    p->enqueue_private(env);
  }
}

void RuntimeImpl::handle_signal(Process* p, Envelope* env) {
  auto die = [p](const ExitReason& reason) {
    if (!p->exit_pending) {
      p->exit_pending = true;
      p->exit_reason = reason;
    }
  };
  switch (env->kind) {
    case EnvelopeKind::kLink:
      extras(p).links.insert(env->from, 1);
      break;
    case EnvelopeKind::kUnlink:
      if (p->extras) p->extras->links.erase(env->from);
      break;
    case EnvelopeKind::kMonitor:
      extras(p).monitors_in.insert(env->ref, env->from);
      break;
    case EnvelopeKind::kDemonitor:
      if (p->extras) p->extras->monitors_in.erase(env->ref);
      break;
    case EnvelopeKind::kDown:
      if (p->extras && p->extras->monitors_out.erase(env->ref)) {
        MonitoredName by_name;
        if (!p->extras->monitored_names.empty() &&
            p->extras->monitored_names.erase(env->ref, &by_name)) {
          payload<Down>(env).by_name = std::move(by_name.name);
        }
        env->kind = EnvelopeKind::kMessage;
        p->enqueue_private(env);
        return;
      }
      break;  // demonitored meanwhile: dropped
    case EnvelopeKind::kLinkExit: {
      if (!p->extras || !p->extras->links.erase(env->from)) break;  // unlinked meanwhile
      const ExitReason& reason = payload<Exit>(env).reason;
      if (p->trap_exit) {
        env->kind = EnvelopeKind::kMessage;
        p->enqueue_private(env);
        return;
      }
      if (!reason.is_normal()) die(reason);
      break;
    }
    case EnvelopeKind::kExit: {
      const ExitReason& reason = payload<Exit>(env).reason;
      if (reason.is_kill()) {
        die(ExitReason::killed());
      } else if (p->trap_exit) {
        env->kind = EnvelopeKind::kMessage;
        p->enqueue_private(env);
        return;
      } else if (!reason.is_normal()) {
        die(reason);
      } else if (env->from == p->pid()) {
        die(reason);  // exit(self(), normal) ends the caller
      }
      break;
    }
    case EnvelopeKind::kMonitorAdopt:
      extras(p).monitors_out.insert(env->ref, env->from);
      break;
    case EnvelopeKind::kProcessInfo:
      send_signal<ProcessInfoReply>(env->from, EnvelopeKind::kMessage, p->pid(), env->ref,
                                    ProcessInfoReply{env->ref, info_of(p)});
      break;
    case EnvelopeKind::kTimeout:
      if (payload<TimeoutPayload>(env).token == p->timeout_token && p->timer_id != 0) {
        p->timeout_fired = true;
        p->timer_id = 0;
      }
      break;
    default:
      break;
  }
  delete env;
}

void RuntimeImpl::arm_timeout(Process* p, int64_t ms) {
  uint64_t token = ++p->timeout_token;
  p->timeout_fired = false;
  Envelope* env = make_envelope<TimeoutPayload>(EnvelopeKind::kTimeout, TimeoutPayload{token});
  p->timer_id = timers.add(ms, p->pid(), env);
}

void RuntimeImpl::cancel_timeout(Process* p) {
  if (p->timer_id != 0) {
    timers.cancel(p->timer_id);
    p->timer_id = 0;
  }
  ++p->timeout_token;  // a Timeout already on its way is now stale
  p->timeout_fired = false;
}

}  // namespace plexus::detail

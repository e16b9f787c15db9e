// A process's life: allocation, its turns (coroutine or Server) and its end.
#include "arrivals.h"
#include "runtime_impl.h"

namespace plexus::detail {

// ---------------------------------------------------------------- lifecycle

Process* RuntimeImpl::allocate(ProcessKind kind) {
  if (shut_down.load(std::memory_order_acquire)) return nullptr;
  Process* p = table.allocate();
  if (!p) {
    log(LogLevel::kError,
        "process table full (max_processes = " + std::to_string(options.max_processes) + ")");
    return nullptr;
  }
  p->kind = kind;
  p->runtime = &owner;
  p->kill_pending.store(false, std::memory_order_relaxed);
  return p;
}

void RuntimeImpl::start(Process* p) {
  TurnSends::flush_local();  // the new process may run at once, elsewhere
  p->head.store(nullptr, std::memory_order_release);
  if (p->kind != ProcessKind::kInbox) scheduler.enqueue(p);
}

void RuntimeImpl::run_turn(Process* p) {
  p->budget = options.deterministic ? 1 : options.messages_per_turn;
  TurnSends::in_turn = true;
  TurnSends::current = p;
  if (p->kind == ProcessKind::kServer) {
    run_server(p);
  } else {
    run_coroutine(p);
  }
  TurnSends::current = nullptr;
  TurnSends::in_turn = false;
  TurnSends::flush();
}

void RuntimeImpl::run_coroutine(Process* p) {
  if (!p->started) {
    p->started = true;
    p->root.resume();
  }
  for (;;) {
    if (p->root.done()) {
      finish_body(p);
      return;
    }
    if (p->exit_pending) {
      terminate(p, p->exit_reason);
      return;
    }
    if (suspend_if_asked(p)) return;  // from here on another thread may own p
    if (p->budget <= 0) {
      scheduler.enqueue(p);
      return;
    }
    drain(p);
    if (p->exit_pending) continue;
    if (p->receive->try_complete()) {
      --p->budget;
      p->leaf.resume();
      continue;
    }
    if (p->exit_pending) continue;
    int64_t ms = p->receive->timeout_ms();
    if (ms > 0 && p->timer_id == 0 && !p->timeout_fired) arm_timeout(p, ms);
    if (park(p)) return;  // from here on another thread may own p
  }
}

void RuntimeImpl::finish_body(Process* p) {
  ExitReason reason;
  if (p->root.promise().exception) {
    try {
      std::rethrow_exception(p->root.promise().exception);
    } catch (...) {
      reason = reason_from_current_exception();
    }
  }
  terminate(p, reason);
}

template <class F>
bool RuntimeImpl::server_callback(Process* p, F&& callback) {
  Server* s = p->server;
  try {
    p->in_callback = true;
    callback(s);
    p->in_callback = false;
  } catch (...) {
    p->in_callback = false;
    ExitReason reason = reason_from_current_exception();
    terminate(p, reason);
    return false;
  }
  if (s->stop_requested_) {
    ExitReason reason = s->stop_reason_;
    terminate(p, reason);
    return false;
  }
  return true;
}

bool RuntimeImpl::init_server(Process* p) {
  Server* s = p->server;
  s->process_ = p;
  ExitReason failure;
  Status status;
  try {
    p->in_callback = true;
    status = s->init();
    p->in_callback = false;
    if (!status.ok() && status.code() != StatusCode::kIgnored) {
      failure = ExitReason::error(status.to_string());
    }
  } catch (...) {
    p->in_callback = false;
    failure = reason_from_current_exception();
    status = Status(StatusCode::kExited, "init() threw: " + failure.to_string());
  }
  ack_init(p, status);
  if (status.ok()) return true;
  terminate(p, status.code() == StatusCode::kIgnored ? ExitReason::normal() : failure,
            /*call_server_terminate=*/false);
  return false;
}

void RuntimeImpl::resume(Process* p, uint32_t serial) {
  if (p->serial.load(std::memory_order_acquire) != serial) return;  // it exited
  uint8_t state = p->suspend.load(std::memory_order_acquire);
  while (state != kNotSuspended) {
    if (p->suspend.compare_exchange_weak(state, kNotSuspended, std::memory_order_acq_rel)) {
      if (state == kSuspended) scheduler.enqueue(p);  // else its turn goes on as usual
      return;
    }
  }
}

void RuntimeImpl::ack_init(Process* p, const Status& status) {
  if (!p->init_ack) return;
  // A start that failed or declined unlinks first, so that the starter gets
  // an answer, not an exit signal (as OTP's proc_lib:init_fail).
  if (!status.ok() && p->extras && p->extras->links.erase(p->parent)) {
    send_signal<NoPayload>(p->parent, EnvelopeKind::kUnlink, p->pid(), Ref{});
  }
  send_signal<InitAck>(p->parent, EnvelopeKind::kMessage, p->pid(), Ref{},
                       InitAck{p->init_ack, status});
  p->init_ack = Ref{};
}

void RuntimeImpl::run_server(Process* p) {
  Server* s = p->server;
  if (!p->started) {
    p->started = true;
    if (!init_server(p)) return;
  }
  bool turn_start = true;
  for (;;) {
    // New arrivals are taken at the start of the turn and whenever the queue
    // runs dry, not for every message (see ReceiveBase::try_complete).
    if (turn_start || !p->queue_head) drain(p);
    turn_start = false;
    if (p->exit_pending) {
      // Killed by an exit signal it does not trap: no callback runs.
      terminate(p, p->exit_reason, /*call_server_terminate=*/false);
      return;
    }
    if (suspend_if_asked(p)) return;  // from here on another thread may own p
    if (p->budget <= 0) {
      scheduler.enqueue(p);
      return;
    }
    if (p->timeout_fired) {
      p->timeout_fired = false;
      --p->budget;
      if (!server_callback(p, [](Server* server) { server->handle_timeout(); })) return;
      continue;
    }
    Envelope* env = p->queue_head;
    if (!env) {
      if (s->idle_timeout_ms_ > 0 && p->timer_id == 0) arm_timeout(p, s->idle_timeout_ms_);
      if (park(p)) return;
      continue;
    }
    --p->budget;
    p->remove_private(nullptr, env);
    if (p->timer_id != 0) cancel_timeout(p);
    if (env->kind == EnvelopeKind::kMessage && env->type == type_id<Exit>() &&
        payload<Exit>(env).from == p->parent) {
      // A trapping Server stops with its parent's exit, running terminate(),
      // as gen_server does.
      ExitReason reason = payload<Exit>(env).reason;
      delete env;
      terminate(p, reason);
      return;
    }
    Message msg(env);
    bool alive = server_callback(p, [&](Server* server) {
      switch (env->kind) {
        case EnvelopeKind::kCall:
          server->handle_call(msg, From{env->from, env->ref});
          break;
        case EnvelopeKind::kCast:
          server->handle_cast(msg);
          break;
        default:
          server->handle_info(msg);
          break;
      }
    });
    if (!alive) return;
  }
}

void RuntimeImpl::terminate(Process* p, const ExitReason& reason_in, bool call_server_terminate) {
  ExitReason reason = reason_in;  // may alias p->exit_reason, which is reset below
  Pid self = p->pid();
  if (p->timer_id != 0) cancel_timeout(p);
  Envelope* arrived = p->head.exchange(kClosed, std::memory_order_acq_rel);

  // Tear the body down first: destructors of its locals run as the process.
  if (p->root) {
    p->root.destroy();
    p->root = nullptr;
  }
  p->leaf = nullptr;
  p->receive = nullptr;
  if (p->server) {
    if (call_server_terminate) {
      try {
        p->server->terminate(reason);
      } catch (...) {
        log(LogLevel::kError, "terminate() of " + self.to_string() + " threw");
      }
    }
    delete p->server;
    p->server = nullptr;
  }
  if (p->registered.exchange(false, std::memory_order_acq_rel)) registry.remove_pid(self);
  if (p->has_timers.exchange(false, std::memory_order_acq_rel)) timers.cancel_all_of(self);

  // Log a crash before anyone hears of it, so that logs read cause first.
  if (reason.kind() == ExitReason::Kind::kException) {
    log(LogLevel::kError, "process " + self.to_string() + " exited: " + reason.to_string());
  } else if (reason.kind() == ExitReason::Kind::kError && p->kind == ProcessKind::kServer) {
    log(LogLevel::kError, "server " + self.to_string() + " exited: " + reason.to_string());
  }

  if (ProcessExtras* ex = p->extras) {
    ex->links.for_each([&](const Pid& linked, uint8_t) {
      send_signal<Exit>(linked, EnvelopeKind::kLinkExit, self, Ref{}, Exit{self, reason});
    });
    ex->monitors_in.for_each([&](const Ref& ref, const Pid& watcher) {
      send_signal<Down>(watcher, EnvelopeKind::kDown, self, ref, Down{ref, self, reason});
    });
    ex->monitors_out.for_each(
        [&](const Ref& ref, const Pid& target) { send_demonitor(p, ref, target); });
    delete ex;
    p->extras = nullptr;
  }

  // What was never received is dropped. A link or monitor request that
  // reached this incarnation before its mailbox closed is answered with the
  // exit reason, as BEAM handles the signals still queued at an exit; one
  // that came later, or was meant for an earlier incarnation, finds no
  // process (noproc, in push and take_arrival).
  p->clear_private();
  if (arrived != kWaiting && arrived != kClosed) {
    for_each_arrival(arrived, [&](Envelope* env) {
      bool answered = env->kind == EnvelopeKind::kLink || env->kind == EnvelopeKind::kMonitor ||
                      env->kind == EnvelopeKind::kProcessInfo;
      if (!answered) {
        delete env;
      } else if (env->target_serial == self.serial) {
        on_dead_target(self, env, reason);
      } else {
        on_dead_target(Pid{0, p->index, env->target_serial}, env);
      }
    });
  }

  p->suspend.store(kNotSuspended, std::memory_order_relaxed);
  p->started = false;
  p->trap_exit = false;
  p->exit_pending = false;
  p->timeout_fired = false;
  p->budget = 0;
  p->taken.store(0, std::memory_order_relaxed);
  p->put.store(0, std::memory_order_relaxed);
  p->pending_call = Ref{};
  p->exit_reason = ExitReason();
  if (p->kind == ProcessKind::kInbox) delete static_cast<InboxWaiter*>(p->inbox);
  p->inbox = nullptr;
  table.release(p);
}

}  // namespace plexus::detail

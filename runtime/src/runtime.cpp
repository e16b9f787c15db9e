#include "plexus/runtime.h"

#include <cxxabi.h>

#include <cstdlib>
#include <thread>
#include <typeinfo>

#include "runtime_impl.h"

namespace plexus {
namespace detail {

namespace {

unsigned scheduler_threads(const RuntimeOptions& options) {
  if (options.deterministic) return 0;
  if (options.schedulers > 0) return options.schedulers;
  unsigned n = std::thread::hardware_concurrency();
  return n > 0 ? n : 1;
}

std::string demangle(const char* name) {
  int status = 0;
  char* text = abi::__cxa_demangle(name, nullptr, nullptr, &status);
  std::string result = status == 0 && text ? text : name;
  std::free(text);
  return result;
}

// Reverses a LIFO chain of arrivals into arrival order.
Envelope* reverse(Envelope* list) {
  Envelope* out = nullptr;
  while (list) {
    Envelope* next = list->next;
    list->next = out;
    out = list;
    list = next;
  }
  return out;
}

// A message drain may queue without looking at it again: not a signal, and
// not a reply (whose call may have given up).
bool is_plain_message(const Envelope* env) {
  return !is_signal(env->kind) && env->kind != EnvelopeKind::kReply;
}

// Calls f on each envelope of `run`, in send order (f may relink them).
template <class F>
void for_each_in_run(RunEnvelope* run, F&& f) {
  for (Envelope* env = run->first; env != nullptr;) {
    Envelope* next = env->next;
    f(env);
    env = next;
  }
}

// Calls f on each envelope of an in-queue chain (newest first, as taken from
// Process::head), in arrival order, opening runs (whose nodes it frees);
// take_run(run) may take a run's envelopes whole instead (it returns true).
template <class TakeRun, class F>
void for_each_arrival(Envelope* chain, TakeRun&& take_run, F&& f) {
  for (Envelope* node = reverse(chain); node != nullptr;) {
    Envelope* next = node->next;
    if (node->kind == EnvelopeKind::kRun) {
      auto* run = static_cast<RunEnvelope*>(node);
      if (!take_run(run)) for_each_in_run(run, f);
      delete run;
    } else {
      f(node);
    }
    node = next;
  }
}
template <class F>
void for_each_arrival(Envelope* chain, F&& f) {
  for_each_arrival(
      chain, [](RunEnvelope*) { return false; }, f);
}

// A run longer than this is published at once, so a receiver on another core
// starts on it while the sender goes on.
constexpr int kMaxRun = 64;

}  // namespace

Status not_a_wire_type(Pid to, const std::type_info& type) {
  return Status(StatusCode::kInvalidArgument,
                "cannot send a " + demangle(type.name()) + " to " + to.to_string() +
                    " on another node: only protobuf messages cross nodes");
}

ExitReason reason_from_current_exception() {
  try {
    throw;
  } catch (const ProcessExit& e) {
    return e.reason;
  } catch (const std::exception& e) {
    return ExitReason::exception(demangle(typeid(e).name()), e.what());
  } catch (...) {
    return ExitReason::exception("unknown", "a non-std exception");
  }
}

RuntimeImpl::RuntimeImpl(Runtime& rt, RuntimeOptions opts)
    : owner(rt),
      options(std::move(opts)),
      table(options.max_processes),
      timers(options.deterministic, [this](Pid to, Envelope* env) { deliver(to, env); }),
      scheduler(scheduler_threads(options), [this](Process* p) { run_turn(p); }) {
  timers.start();
  scheduler.start();
}

RuntimeImpl::~RuntimeImpl() = default;

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
  if (old == kWaiting) schedule_woken(p);
}

thread_local constinit bool TurnSends::in_turn = false;
thread_local constinit TurnSends::LocalRun TurnSends::local_run;
thread_local constinit spi::Distribution* TurnSends::deferred = nullptr;

void TurnSends::publish_local_run() {
  LocalRun& run = local_run;
  Process* p = run.target;
  run.target = nullptr;  // before push: answering a dead target sends again
  Envelope* node = run.first;
  if (run.count > 1) {
    node = new RunEnvelope(run.first, run.last, run.plain);
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
    default:
      break;
  }
  delete env;
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
        p->append_private(run->first, run->last);
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
  if (p->kind == ProcessKind::kServer) {
    run_server(p);
  } else {
    run_coroutine(p);
  }
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
    callback(s);
  } catch (...) {
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

void RuntimeImpl::run_server(Process* p) {
  Server* s = p->server;
  if (!p->started) {
    p->started = true;
    s->process_ = p;
    Status status;
    try {
      status = s->init();
    } catch (...) {
      terminate(p, reason_from_current_exception(), /*call_server_terminate=*/false);
      return;
    }
    if (!status.ok()) {
      terminate(p, ExitReason::error(status.to_string()), /*call_server_terminate=*/false);
      return;
    }
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
    if (call_server_terminate && !reason.is_kill()) {
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

  // Log a crash before anyone hears of it, so that logs read cause first.
  if (reason.kind() == ExitReason::Kind::kException) {
    log(LogLevel::kError, "process " + self.to_string() + " exited: " + reason.to_string());
  } else if (reason.kind() == ExitReason::Kind::kError && p->kind == ProcessKind::kServer) {
    log(LogLevel::kError, "server " + self.to_string() + " exited: " + reason.to_string());
  }

  ExitReason propagated = reason.as_propagated();
  if (ProcessExtras* ex = p->extras) {
    ex->links.for_each([&](const Pid& linked, uint8_t) {
      send_signal<Exit>(linked, EnvelopeKind::kLinkExit, self, Ref{}, Exit{self, propagated});
    });
    ex->monitors_in.for_each([&](const Ref& ref, const Pid& watcher) {
      send_signal<Down>(watcher, EnvelopeKind::kDown, self, ref, Down{ref, self, propagated});
    });
    ex->monitors_out.for_each([&](const Ref& ref, const Pid& target) {
      send_signal<NoPayload>(target, EnvelopeKind::kDemonitor, self, ref);
    });
    delete ex;
    p->extras = nullptr;
  }

  // What was never received is dropped; link and monitor requests that
  // arrived too late are answered with noproc.
  for (Envelope* env = p->queue_head; env;) {
    Envelope* next = env->next;
    delete env;
    env = next;
  }
  p->queue_head = p->queue_tail = nullptr;
  if (arrived != kWaiting && arrived != kClosed) {
    for_each_arrival(arrived, [&](Envelope* env) {
      if (env->kind == EnvelopeKind::kLink || env->kind == EnvelopeKind::kMonitor) {
        on_dead_target(Pid{0, p->index, env->target_serial}, env);
      } else {
        delete env;
      }
    });
  }

  p->started = false;
  p->trap_exit = false;
  p->exit_pending = false;
  p->timeout_fired = false;
  p->budget = 0;
  p->pending_call = Ref{};
  p->exit_reason = ExitReason();
  if (p->kind == ProcessKind::kInbox) delete static_cast<InboxWaiter*>(p->inbox);
  p->inbox = nullptr;
  table.release(p);
}

}  // namespace detail

// ---------------------------------------------------------------- Runtime

using detail::Envelope;
using detail::EnvelopeKind;
using detail::Process;

Runtime::Runtime(RuntimeOptions options)
    : impl_(std::make_unique<detail::RuntimeImpl>(*this, std::move(options))) {}

Runtime::~Runtime() { shutdown(); }

void Runtime::shutdown() {
  detail::RuntimeImpl& rt = *impl_;
  if (rt.shut_down.exchange(true)) return;
  detail::TurnSends::flush_local();  // shut down from a turn: its last run may be to us
  rt.scheduler.stop();
  rt.timers.stop();
  // End every process still alive, without running anything else: a process
  // woken by another's exit is ended by this loop too.
  for (uint32_t i = 0; i < rt.table.allocated_slots(); ++i) {
    Process* p = rt.table.get(i);
    if (p->head.load(std::memory_order_acquire) == detail::kClosed) continue;
    rt.terminate(p, ExitReason::shutdown(), /*call_server_terminate=*/false);
  }
}

void Runtime::deliver(Pid to, Envelope* env, detail::Publish publish) {
  impl_->deliver(to, env, publish);
}

Ref Runtime::make_ref() { return Ref{impl_->next_ref.fetch_add(1, std::memory_order_relaxed)}; }

Pid Runtime::start(Process* p) {
  if (!p) return Pid{};
  Pid pid = p->pid();
  impl_->start(p);  // from here on p may run, and even exit, on another thread
  return pid;
}

Process* Runtime::allocate_process(detail::ProcessKind kind) { return impl_->allocate(kind); }

TimerRef Runtime::start_timer(Pid to, int64_t delay_ms, Envelope* env) {
  return TimerRef{impl_->timers.add(delay_ms, to, env)};
}

std::optional<std::chrono::milliseconds> Runtime::cancel_timer(TimerRef timer) {
  std::optional<int64_t> left = impl_->timers.cancel(timer.id);
  if (!left) return std::nullopt;
  return std::chrono::milliseconds(*left);
}

void Runtime::exit(Pid pid, ExitReason reason) { impl_->send_exit(Pid{}, pid, std::move(reason)); }

bool Runtime::alive(Pid pid) const { return impl_->alive(pid); }

Status Runtime::register_name(const std::string& name, Pid pid) {
  if (!impl_->alive(pid)) return Status(StatusCode::kNoProc, pid.to_string() + " is not alive");
  Process* p = impl_->table.get(pid.index);
  Status status = impl_->registry.add(name, pid);
  if (status.ok()) p->registered.store(true, std::memory_order_release);
  // The process may have exited between the check and the add: undo.
  if (status.ok() && !impl_->alive(pid)) {
    impl_->registry.remove_pid(pid);
    return Status(StatusCode::kNoProc, pid.to_string() + " is not alive");
  }
  return status;
}

Status Runtime::unregister(const std::string& name) { return impl_->registry.remove(name); }

Pid Runtime::whereis(const std::string& name) const {
  Pid pid = impl_->registry.find(name);
  return impl_->alive(pid) ? pid : Pid{};
}

size_t Runtime::process_count() const { return impl_->table.live(); }

int64_t Runtime::now_ms() const { return impl_->timers.now_ms(); }

bool Runtime::step() {
  Process* p = impl_->scheduler.pop_global();
  if (!p) return false;
  impl_->run_turn(p);
  return true;
}

size_t Runtime::run_until(int64_t deadline_ms, size_t max_turns) {
  size_t turns = 0;
  while (turns < max_turns) {
    if (step()) {
      ++turns;
      continue;
    }
    std::optional<int64_t> next = impl_->timers.next_deadline();
    if (!next || *next > deadline_ms) break;
    impl_->timers.advance_to(*next);
  }
  return turns;
}

size_t Runtime::run_until_idle(size_t max_turns) { return run_until(INT64_MAX, max_turns); }

void Runtime::advance_time(std::chrono::milliseconds by) {
  impl_->timers.advance_to(impl_->timers.now_ms() + by.count());
}

const RuntimeOptions& Runtime::options() const { return impl_->options; }

void Runtime::log(LogLevel level, std::string_view text) const {
  impl_->log(level, std::string(text));
}

}  // namespace plexus

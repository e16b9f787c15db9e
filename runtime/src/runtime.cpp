// The Runtime facade, and the runtime's setup and teardown.
#include "plexus/runtime.h"

#include <cxxabi.h>

#include <algorithm>
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
      timers(options.deterministic,
             [this](Pid to, const std::string* name, Envelope* env) {
               if (name) to = registry.find(*name);  // no one by that name: dropped
               if (to) {
                 deliver(to, env);
               } else {
                 delete env;
               }
             }),
      scheduler(scheduler_threads(options), [this](Process* p) { run_turn(p); }) {
  timers.start();
  scheduler.start();
  own_metrics = metrics.add([this](MetricsWriter& out) { write_metrics(out); });
}

void RuntimeImpl::write_metrics(MetricsWriter& out) const {
  out.gauge("plexus_processes", "live processes", static_cast<double>(table.live()));
  out.gauge("plexus_process_limit", "the process table's size (RuntimeOptions::max_processes)",
            options.max_processes);
  out.gauge("plexus_uptime_seconds", "seconds since the runtime started",
            static_cast<double>(timers.now_ms()) / 1000.0);
  out.gauge("plexus_timers", "timers armed (send_after, receive and idle timeouts)",
            static_cast<double>(timers.pending()));
  uint32_t largest = 0;
  table.for_each_live([&](const Process* p) { largest = std::max(largest, p->queue_len()); });
  out.gauge("plexus_largest_mailbox_messages",
            "the longest mailbox of a live process (messages taken in, not yet received)", largest);
  Scheduler::Load load = scheduler.load();
  out.gauge("plexus_run_queue_length", "runnable processes waiting for a scheduler",
            static_cast<double>(load.queued));
  out.gauge("plexus_schedulers", "scheduler threads", static_cast<double>(load.busy_ns.size()));
  for (size_t i = 0; i < load.busy_ns.size(); ++i) {
    std::string id = std::to_string(i);
    out.counter("plexus_scheduler_busy_seconds_total",
                "seconds a scheduler thread spent running turns (not idle)",
                static_cast<double>(load.busy_ns[i]) / 1e9, {{"scheduler", id}});
  }
}

RuntimeImpl::~RuntimeImpl() = default;

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
  // The timer goes with its target's exit (RuntimeImpl::terminate); a mark
  // left by a target that has just exited only costs its slot's next
  // incarnation one look at the timers when it exits.
  if (to.node == 0) {
    if (Process* p = impl_->table.get(to.index))
      p->has_timers.store(true, std::memory_order_release);
  }
  return TimerRef{impl_->timers.add(delay_ms, to, env, detail::TimerService::Owner::kTarget)};
}

TimerRef Runtime::start_named_timer(std::string name, int64_t delay_ms, Envelope* env) {
  return TimerRef{impl_->timers.add_named(delay_ms, std::move(name), env)};
}

namespace {
// A timer is over once its target has exited, as in Erlang (a timer to a
// name, or to a pid of another node, is not tied to any process here).
std::optional<std::chrono::milliseconds> left_if_live(
    const detail::RuntimeImpl& rt, std::optional<detail::TimerService::Pending> pending) {
  if (!pending) return std::nullopt;
  if (pending->target && pending->target.node == 0 && !rt.alive(pending->target)) {
    return std::nullopt;
  }
  return std::chrono::milliseconds(pending->left_ms);
}
}  // namespace

std::optional<std::chrono::milliseconds> Runtime::cancel_timer(TimerRef timer) {
  return left_if_live(*impl_, impl_->timers.cancel(timer.id));
}

std::optional<std::chrono::milliseconds> Runtime::read_timer(TimerRef timer) const {
  return left_if_live(*impl_, impl_->timers.read(timer.id));
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

MetricsRegistry& Runtime::metrics() { return impl_->metrics; }

const RuntimeOptions& Runtime::options() const { return impl_->options; }

bool Runtime::log_enabled(LogLevel level) const { return impl_->log_enabled(level); }

void Runtime::log(LogLevel level, std::string_view text) const { impl_->log(level, text); }

}  // namespace plexus

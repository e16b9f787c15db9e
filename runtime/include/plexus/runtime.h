// Runtime: one node's processes, scheduler and timers.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "plexus/context.h"
#include "plexus/detail/envelope.h"
#include "plexus/detail/process.h"
#include "plexus/exit_reason.h"
#include "plexus/log.h"
#include "plexus/message.h"
#include "plexus/pid.h"
#include "plexus/status.h"
#include "plexus/task.h"

namespace plexus {

class Server;

struct RuntimeOptions {
  // Scheduler threads; 0 means one per core.
  unsigned schedulers = 0;
  // No threads at all: the caller drives the scheduler with step() and
  // run_until_idle(), one message at a time, and time is virtual (it moves
  // only by advance_time(), or to the next timer when run_until_idle() finds
  // nothing to run). Makes ordering-sensitive tests exact.
  bool deterministic = false;
  // Size of the process table (live processes at once).
  uint32_t max_processes = 1u << 22;
  // Messages a process may receive in one turn before others get theirs
  // (Erlang gives a process about 4000 reductions a turn). Large enough that
  // a receiver with a backlog keeps up with its senders, small enough that a
  // turn stays well under a millisecond.
  int messages_per_turn = 1000;
  LogSink log_sink = log_to_stderr;
  LogLevel log_level = LogLevel::kInfo;
};

// Names a timer started with send_after.
struct TimerRef {
  uint64_t id = 0;
  explicit operator bool() const { return id != 0; }
};

namespace detail {
class RuntimeImpl;
// The error of sending a value of a type that cannot cross nodes to `to`.
Status not_a_wire_type(Pid to, const std::type_info& type);
// Starts `child` (null: the table was full) linked to and/or monitored by
// `parent`, both set up before it can run. Returns its pid (or the null pid).
Pid start_related(Process* parent, Process* child, bool link, Ref monitor_ref);
}  // namespace detail

// The process world of one node. Thread-safe: any thread may spawn, send,
// exit and look up. Destroying it (or shutdown()) ends every process.
class Runtime {
 public:
  explicit Runtime(RuntimeOptions options = {});
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  // Starts a process running `body`. The body is either a coroutine
  // `Task<> (Context self, Args...)` or a plain function `void (Args...)` /
  // `void (Context, Args...)`; the process exits `normal` when it returns and
  // with an exception reason if it throws. Arguments are copied (or moved)
  // into the process: take them by value. Returns the null pid if the process
  // table is full.
  template <class F, class... Args>
  Pid spawn(F&& body, Args&&... args) {
    return start(make_process(std::forward<F>(body), std::forward<Args>(args)...));
  }

  // Starts a Server of type S, constructed from `args`, in a new process.
  template <class S, class... Args>
  requires std::derived_from<S, Server> Pid spawn_server(Args&&... args) {
    return start(make_server<S>(std::forward<Args>(args)...));
  }

  // Sends `msg` to `to`. Never blocks; to a dead pid it is a silent no-op.
  // A message to a process on another node must be a WireMessage (a protobuf
  // message); any other type gives kInvalidArgument and is not sent.
  // The message is in the mailbox when send returns (see Context::send for
  // a process's own sends).
  template <class T>
  Status send(Pid to, T&& msg) {
    return send_as(Publish::kNow, to, std::forward<T>(msg));
  }
  // Sends to a registered name; kNotFound if the name is not registered.
  template <class T>
  [[nodiscard]] Status send(const std::string& name, T&& msg) {
    return send_as(Publish::kNow, name, std::forward<T>(msg));
  }

  // Sends an exit signal to `pid` from outside any process (Exit::from is the
  // null pid), with erlang:exit/2's rules.
  void exit(Pid pid, ExitReason reason);

  // True while `pid` runs: false once it exited or was sent `kill`.
  bool alive(Pid pid) const;

  // Registered names, as erlang:register/2, unregister/1, whereis/1.
  [[nodiscard]] Status register_name(const std::string& name, Pid pid);
  [[nodiscard]] Status unregister(const std::string& name);
  Pid whereis(const std::string& name) const;

  // Sends `msg` to `to` after `delay`, as erlang:send_after/3.
  template <class T, class Rep, class Period>
  TimerRef send_after(Pid to, std::chrono::duration<Rep, Period> delay, T&& msg) {
    return start_timer(to, detail::to_ms(delay),
                       detail::make_envelope<std::decay_t<T>>(detail::EnvelopeKind::kMessage,
                                                              std::forward<T>(msg)));
  }
  // Cancels a timer; returns the time it had left, or nothing if it already
  // fired or was cancelled.
  std::optional<std::chrono::milliseconds> cancel_timer(TimerRef timer);

  // Live processes.
  size_t process_count() const;

  // Milliseconds since the runtime started (virtual in deterministic mode).
  int64_t now_ms() const;

  // ---- Deterministic mode only
  // Runs one turn of the next runnable process (at most one message). False if
  // nothing was runnable.
  bool step();
  // Steps until nothing is runnable, firing due timers; when only timers are
  // left, moves virtual time to the next one. Returns the turns run. Stops
  // early after `max_turns` (a livelock guard).
  size_t run_until_idle(size_t max_turns = SIZE_MAX);
  // Runs until nothing is runnable but does not move time past `deadline_ms`.
  size_t run_until(int64_t deadline_ms, size_t max_turns = SIZE_MAX);
  // Moves virtual time forward and fires what is due.
  void advance_time(std::chrono::milliseconds by);

  // Ends every process and stops the threads. Idempotent; the destructor
  // calls it.
  void shutdown();

  const RuntimeOptions& options() const;
  void log(LogLevel level, std::string_view text) const;

  // ---- Used by the templates in public headers; not for applications.
  // When a send reaches the mailbox: at once, or (a process's own message,
  // sent in its turn) possibly with the turn's next sends to the same
  // process; see Context::send.
  enum class Publish { kNow, kMayJoinRun };
  void deliver(Pid to, detail::Envelope* env, Publish publish = Publish::kNow);
  // Delivers a new envelope of `kind` holding a T, after checking that a T
  // can reach `to` (see send).
  template <class T, class... Args>
  Status send_envelope(Publish publish, Pid to, detail::EnvelopeKind kind, Pid from, Ref ref,
                       Args&&... args) {
    if constexpr (!WireMessage<T>) {
      if (to.node != 0) return detail::not_a_wire_type(to, typeid(T));
    }
    detail::Envelope* env = detail::make_envelope<T>(kind, std::forward<Args>(args)...);
    env->from = from;
    env->ref = ref;
    deliver(to, env, publish);
    return Status::OK();
  }
  template <class T>
  Status send_as(Publish publish, Pid to, T&& msg) {
    return send_envelope<std::decay_t<T>>(publish, to, detail::EnvelopeKind::kMessage, Pid{}, Ref{},
                                          std::forward<T>(msg));
  }
  template <class T>
  Status send_as(Publish publish, const std::string& name, T&& msg) {
    Pid to = whereis(name);
    if (!to) return Status(StatusCode::kNotFound, "no process registered as '" + name + "'");
    return send_as(publish, to, std::forward<T>(msg));
  }
  Ref make_ref();
  // Makes a process from make_process/make_server runnable; the null pid
  // for a null process (the table was full).
  Pid start(detail::Process* p);
  detail::Process* allocate_process(detail::ProcessKind kind);
  TimerRef start_timer(Pid to, int64_t delay_ms, detail::Envelope* env);
  detail::RuntimeImpl& impl() { return *impl_; }

  template <class F, class... Args>
  detail::Process* make_process(F&& body, Args&&... args);
  template <class S, class... Args>
  detail::Process* make_server(Args&&... args);

 private:
  std::unique_ptr<detail::RuntimeImpl> impl_;
};

namespace detail {

// A body that needs its callable kept alive (a lambda with captures, or a
// plain function) runs inside this wrapper coroutine, whose frame owns it.
// The arguments live in this frame and are handed to the body as rvalues (it
// runs once), so move-only arguments work.
template <class F, class... Args>
Task<> run_owned(F f, Context self, Args... args) {
  if constexpr (std::is_invocable_v<F&, Context, Args&&...>) {
    using R = std::invoke_result_t<F&, Context, Args&&...>;
    if constexpr (std::is_void_v<R>) {
      f(self, std::move(args)...);
    } else {
      co_await f(self, std::move(args)...);
    }
  } else {
    using R = std::invoke_result_t<F&, Args&&...>;
    if constexpr (std::is_void_v<R>) {
      f(std::move(args)...);
    } else {
      co_await f(std::move(args)...);
    }
  }
}

template <class F, class... Args>
constexpr bool kIsCoroutineBody = std::is_invocable_r_v<Task<>, F&, Context, Args&&...>;

}  // namespace detail

template <class F, class... Args>
detail::Process* Runtime::make_process(F&& body, Args&&... args) {
  using D = std::decay_t<F>;
  detail::Process* p = allocate_process(detail::ProcessKind::kCoroutine);
  if (!p) return nullptr;
  Context self(p);
  Task<> task;
  if constexpr (std::is_empty_v<D> && detail::kIsCoroutineBody<D, std::decay_t<Args>...>) {
    // A captureless coroutine lambda keeps nothing in its object: call it
    // directly, its frame holds the copied arguments.
    D fn(std::forward<F>(body));
    task = fn(self, std::decay_t<Args>(std::forward<Args>(args))...);
  } else {
    task = detail::run_owned<D, std::decay_t<Args>...>(
        D(std::forward<F>(body)), self, std::decay_t<Args>(std::forward<Args>(args))...);
  }
  p->root = task.release();
  p->leaf = p->root;
  return p;
}

template <class S, class... Args>
detail::Process* Runtime::make_server(Args&&... args) {
  detail::Process* p = allocate_process(detail::ProcessKind::kServer);
  if (!p) return nullptr;
  p->server = new S(std::forward<Args>(args)...);
  return p;
}

// ---- Context templates that need the Runtime

template <class T>
Status Context::send(Pid to, T&& msg) const {
  return runtime().send_as(Runtime::Publish::kMayJoinRun, to, std::forward<T>(msg));
}

template <class T>
Status Context::send(const std::string& name, T&& msg) const {
  return runtime().send_as(Runtime::Publish::kMayJoinRun, name, std::forward<T>(msg));
}

template <class T>
Status Context::reply(const From& from, T&& value) const {
  return runtime().send_envelope<std::decay_t<T>>(Runtime::Publish::kMayJoinRun, from.pid,
                                                  detail::EnvelopeKind::kReply, self(), from.ref,
                                                  std::forward<T>(value));
}

template <class T>
Status Context::cast(Pid to, T&& msg) const {
  return runtime().send_envelope<std::decay_t<T>>(Runtime::Publish::kMayJoinRun, to,
                                                  detail::EnvelopeKind::kCast, self(), Ref{},
                                                  std::forward<T>(msg));
}

template <class F, class... Args>
Pid Context::spawn(F&& body, Args&&... args) const {
  return runtime().spawn(std::forward<F>(body), std::forward<Args>(args)...);
}

template <class F, class... Args>
Pid Context::spawn_link(F&& body, Args&&... args) const {
  return detail::start_related(
      p_, runtime().make_process(std::forward<F>(body), std::forward<Args>(args)...), true, Ref{});
}

template <class F, class... Args>
std::pair<Pid, Ref> Context::spawn_monitor(F&& body, Args&&... args) const {
  Ref ref = runtime().make_ref();
  Pid pid = detail::start_related(
      p_, runtime().make_process(std::forward<F>(body), std::forward<Args>(args)...), false, ref);
  if (!pid) return {};
  return {pid, ref};
}

template <class S, class... Args>
Pid Context::spawn_server_link(Args&&... args) const {
  return detail::start_related(p_, runtime().template make_server<S>(std::forward<Args>(args)...),
                               true, Ref{});
}

namespace detail {
// Marks `ref` as the call this process waits for (replies with other refs are
// dropped on arrival, as stale), or clears it.
void set_pending_call(Process* p, Ref ref);

// The coroutine behind Context::call. It takes the Context by value: a member
// coroutine would keep `this`, which is often a temporary.
template <class R, class Req>
Task<Result<R>> call_coroutine(Context self, Pid to, Req request,
                               std::chrono::milliseconds timeout) {
  if constexpr (!WireMessage<Req> || !WireMessage<R>) {
    if (to.node != 0) co_return not_a_wire_type(to, WireMessage<Req> ? typeid(R) : typeid(Req));
  }
  Ref ref = self.monitor(to);
  set_pending_call(self.process(), ref);
  auto* env = make_envelope<Req>(EnvelopeKind::kCall, std::move(request));
  env->ref = ref;
  env->from = self.self();
  self.runtime().deliver(to, env);

  std::optional<Result<R>> result;
  struct ReplyPattern {
    Ref ref;
    std::optional<Result<R>>* out;
    bool matches(Envelope* e) { return e->kind == EnvelopeKind::kReply && e->ref == ref; }
    void invoke(Envelope* e) {
      if (e->type == type_id<R>()) {
        out->emplace(std::move(payload<R>(e)));
      } else {
        out->emplace(Status(StatusCode::kBadType, "call reply of an unexpected type"));
      }
    }
  };
  co_await self.receive(
      ReplyPattern{ref, &result},
      match([ref](const Down& d) { return d.ref == ref; },
            [&](const Down& d) {
              if (d.reason.kind() == ExitReason::Kind::kNoProc) {
                result.emplace(
                    Status(StatusCode::kNoProc, "call to " + to.to_string() + ": no such process"));
              } else {
                result.emplace(
                    Status(StatusCode::kExited,
                           "call to " + to.to_string() + ": exited with " + d.reason.to_string()));
              }
            }),
      after(timeout, [&] {
        result.emplace(Status(StatusCode::kTimeout, "call to " + to.to_string() + " timed out"));
      }));
  set_pending_call(self.process(), Ref{});
  self.demonitor(ref, Flush::kYes);
  co_return std::move(*result);
}

}  // namespace detail

template <class R, class Req>
Task<Result<R>> Context::call(Pid to, Req request, std::chrono::milliseconds timeout) const {
  return detail::call_coroutine<R>(*this, to, std::move(request), timeout);
}

}  // namespace plexus

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
#include <vector>

#include "plexus/context.h"
#include "plexus/detail/envelope.h"
#include "plexus/detail/process.h"
#include "plexus/exit_reason.h"
#include "plexus/log.h"
#include "plexus/message.h"
#include "plexus/metrics.h"
#include "plexus/pid.h"
#include "plexus/process_info.h"
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
  // Where log records go, and the least level that goes there (kNone: none).
  LogSink log_sink = stderr_sink(LogFormat::kText);
  LogLevel log_level = LogLevel::kInfo;
};

// Names a timer started with send_after.
struct TimerRef {
  uint64_t id = 0;
  explicit operator bool() const { return id != 0; }
};

namespace detail {
class RuntimeImpl;
struct RuntimeAccess;
// When a send reaches the mailbox: at once, or (a process's own message, sent
// in its turn) possibly with the turn's next sends to the same process; see
// Context::send.
enum class Publish { kNow, kMayJoinRun };
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
    return send_as(detail::Publish::kNow, to, std::forward<T>(msg));
  }
  // Sends to a registered name; kNotFound if the name is not registered.
  template <class T>
  [[nodiscard]] Status send(const std::string& name, T&& msg) {
    return send_as(detail::Publish::kNow, name, std::forward<T>(msg));
  }

  // Sends an exit signal to `pid` from outside any process (Exit::from is the
  // null pid), with erlang:exit/2's rules.
  void exit(Pid pid, ExitReason reason);

  // True while `pid` runs: false once it exited or was sent `kill`.
  bool alive(Pid pid) const;
  // Context::process_info from outside any process: blocks the calling
  // thread (never call it in a process's turn).
  Result<ProcessInfo> process_info(Pid pid,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5));

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
  // Sends `msg` after `delay` to the process registered as `name` when the
  // timer fires (none by then: the message is dropped), as
  // erlang:send_after/3 with an atom.
  template <class T, class Rep, class Period>
  TimerRef send_after(const std::string& name, std::chrono::duration<Rep, Period> delay, T&& msg) {
    return start_named_timer(name, detail::to_ms(delay),
                             detail::make_envelope<std::decay_t<T>>(detail::EnvelopeKind::kMessage,
                                                                    std::forward<T>(msg)));
  }
  // Cancels a timer; returns the time it had left, or nothing if it already
  // fired, was cancelled, or its target process exited (a process's timers
  // go with it), as erlang:cancel_timer/1.
  std::optional<std::chrono::milliseconds> cancel_timer(TimerRef timer);
  // The time a timer has left, or nothing as for cancel_timer, which it does
  // not do (erlang:read_timer/1).
  std::optional<std::chrono::milliseconds> read_timer(TimerRef timer) const;

  // Live processes.
  size_t process_count() const;
  // Every live process's load, read without stopping any (ProcessLoad), in
  // the order of the process table: as erlang:processes/0 with
  // process_info(P, [message_queue_len]), for `plexusctl top`.
  std::vector<ProcessLoad> process_loads() const;

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
  // The metrics of this runtime and of the layers on it (plexus/metrics.h).
  // This runtime's own: plexus_processes, plexus_run_queue_length,
  // plexus_scheduler_busy_seconds_total{scheduler}, plexus_timers, ...
  MetricsRegistry& metrics();
  // True if a record at `level` would reach the sink.
  bool log_enabled(LogLevel level) const;
  // Sends a record to the sink, with the node's name if the runtime is a
  // node's, if `level` is enabled.
  void log(LogLevel level, std::string_view text) const;
  // The same, building the text (`make_text()`, a std::string) only if
  // `level` is enabled: for lines that cost something to format.
  template <std::invocable F>
  void log(LogLevel level, F&& make_text) const {
    if (log_enabled(level)) log(level, std::string_view(std::forward<F>(make_text)()));
  }

  // A new reference, unique on this node (erlang:make_ref/0).
  Ref make_ref();

 private:
  // The templates in public headers, the runtime's sources and the
  // distribution SPI (plexus/spi/distribution.h) reach the plumbing below
  // through RuntimeAccess (plexus/detail/runtime_access.h).
  friend struct detail::RuntimeAccess;

  void deliver(Pid to, detail::Envelope* env, detail::Publish publish = detail::Publish::kNow);
  template <class T, class... Args>
  Status send_envelope(detail::Publish publish, Pid to, detail::EnvelopeKind kind, Pid from,
                       Ref ref, Args&&... args);
  template <class T>
  Status send_as(detail::Publish publish, Pid to, T&& msg) {
    return send_envelope<std::decay_t<T>>(publish, to, detail::EnvelopeKind::kMessage, Pid{}, Ref{},
                                          std::forward<T>(msg));
  }
  template <class T>
  Status send_as(detail::Publish publish, const std::string& name, T&& msg);
  // Makes a process from make_process/make_server runnable; the null pid
  // for a null process (the table was full).
  Pid start(detail::Process* p);
  detail::Process* allocate_process(detail::ProcessKind kind);
  TimerRef start_timer(Pid to, int64_t delay_ms, detail::Envelope* env);
  TimerRef start_named_timer(std::string name, int64_t delay_ms, detail::Envelope* env);
  template <class F, class... Args>
  detail::Process* make_process(F&& body, Args&&... args);
  template <class S, class... Args>
  detail::Process* make_server(Args&&... args);

  std::unique_ptr<detail::RuntimeImpl> impl_;
};

}  // namespace plexus

#include "plexus/detail/context_templates.h"
#include "plexus/detail/runtime_access.h"

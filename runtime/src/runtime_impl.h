// The runtime's internals: process lifecycle, signal handling, scheduling glue.
#pragma once

#include <atomic>
#include <string>

#include "flat_map.h"
#include "plexus/runtime.h"
#include "plexus/server.h"
#include "process_table.h"
#include "registry.h"
#include "scheduler.h"
#include "timer_service.h"

namespace plexus::detail {

// What most processes never need: allocated on the first link or monitor.
struct ProcessExtras {
  FlatMap<Pid, uint8_t> links;     // the linked pids (the value is unused)
  FlatMap<Ref, Pid> monitors_out;  // my monitors on others: ref -> target
  FlatMap<Ref, Pid> monitors_in;   // others' monitors on me: ref -> watcher
};

// The waiter of an Inbox process: a sender that finds it parked signals here.
struct InboxWaiter {
  std::mutex mu;
  std::condition_variable cv;
  bool signaled = false;
};

// The node layer, seen from the runtime: it takes every envelope addressed
// to a process on another node (Pid::node != 0).
class Distribution {
 public:
  virtual ~Distribution() = default;
  // Takes ownership of `env`. Never blocks for long and never fails loudly: an
  // unreachable target is answered as a dead one (noconnection).
  virtual void route(Pid to, Envelope* env) = 0;
};

// A process's turn on this thread: sends to other nodes made during it may be
// written when it ends (see NodeImpl::kick), so that a turn's messages to a
// node leave in one write, from this thread.
struct TurnWrites {
  static thread_local constinit bool in_turn;
  static thread_local constinit bool pending;  // flush() has work
  // Writes what the turn put off (node.cpp).
  static void flush();
};

class RuntimeImpl {
 public:
  RuntimeImpl(Runtime& owner, RuntimeOptions options);
  ~RuntimeImpl();

  Runtime& owner;
  const RuntimeOptions options;
  ProcessTable table;
  Registry registry;
  TimerService timers;
  Scheduler scheduler;
  std::atomic<uint64_t> next_ref{1};
  std::atomic<bool> shut_down{false};
  // Set by the Node that owns this runtime, if any.
  std::atomic<Distribution*> distribution{nullptr};

  // ---- Sending
  // Delivers `env` to `to`, or answers for a dead `to` (see on_dead_target).
  void deliver(Pid to, Envelope* env);
  // Sends a signal of `kind` from `from` with payload T.
  template <class T, class... Args>
  void send_signal(Pid to, EnvelopeKind kind, Pid from, Ref ref, Args&&... args) {
    Envelope* env = make_envelope<T>(kind, std::forward<Args>(args)...);
    env->from = from;
    env->ref = ref;
    deliver(to, env);
  }
  // exit(to, reason) from `from` (null outside a process), as erlang:exit/2.
  void send_exit(Pid from, Pid to, ExitReason reason);
  // A signal reached a process that does not exist (or cannot be reached): a
  // link gets the linker an exit signal with `reason`, a monitor gets the
  // watcher a Down with `reason`; the rest is dropped.
  void on_dead_target(Pid to, Envelope* env, const ExitReason& reason = ExitReason::noproc());

  // ---- Processes
  Process* allocate(ProcessKind kind);
  void start(Process* p);
  void run_turn(Process* p);
  // Handles what arrived (owner only).
  void drain(Process* p);
  // Ends `p` with `reason`: closes its mailbox, tears down its body, signals
  // links and monitors, answers pending link/monitor requests, frees the slot.
  void terminate(Process* p, const ExitReason& reason, bool call_server_terminate = true);
  bool park(Process* p) {
    Envelope* expected = nullptr;
    return p->head.compare_exchange_strong(expected, kWaiting, std::memory_order_acq_rel,
                                           std::memory_order_relaxed);
  }
  void arm_timeout(Process* p, int64_t ms);
  void cancel_timeout(Process* p);
  static ProcessExtras& extras(Process* p) {
    if (!p->extras) p->extras = new ProcessExtras;
    return *p->extras;
  }
  bool alive(Pid pid) const;
  void log(LogLevel level, const std::string& text) const {
    if (level >= options.log_level && options.log_sink) options.log_sink(level, text);
  }

 private:
  void handle_signal(Process* p, Envelope* env);
  void run_coroutine(Process* p);
  void run_server(Process* p);
  void finish_body(Process* p);
  // Runs one Server callback; false if it ended the process.
  template <class F>
  bool server_callback(Process* p, F&& callback);
  void schedule_woken(Process* p);
};

// The exit reason for an exception caught while a process ran.
ExitReason reason_from_current_exception();

}  // namespace plexus::detail

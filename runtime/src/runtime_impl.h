// The runtime's internals: process lifecycle, signal handling, scheduling glue.
#pragma once

#include <atomic>
#include <string>

#include "flat_map.h"
#include "plexus/detail/init_ack.h"
#include "plexus/metrics.h"
#include "plexus/process_info.h"
#include "plexus/runtime.h"
#include "plexus/server.h"
#include "plexus/spi/distribution.h"
#include "process_table.h"
#include "registry.h"
#include "scheduler.h"
#include "timer_service.h"

namespace plexus::detail {

// A monitor made by a registered name (Context::monitor(name[, node])).
struct MonitoredName {
  Indirect<RegisteredName> name;  // as the Down names it
  bool remote = false;            // on another node: its target is known only there
};

// What most processes never need: allocated on the first link or monitor.
struct ProcessExtras {
  FlatMap<Pid, uint8_t> links;     // the linked pids (the value is unused)
  FlatMap<Ref, Pid> monitors_out;  // my monitors on others: ref -> target (null: by remote name)
  FlatMap<Ref, Pid> monitors_in;   // others' monitors on me: ref -> watcher
  FlatMap<Ref, MonitoredName> monitored_names;  // those of monitors_out made by name
};

// The waiter of an Inbox process: a sender that finds it parked signals here.
struct InboxWaiter {
  std::mutex mu;
  std::condition_variable cv;
  bool signaled = false;
};

class RuntimeImpl;

// What a process's turn puts off until it ends, or until its thread is about
// to block: its latest run of messages to one local process (Context::send,
// cast, reply), published with one CAS (see RuntimeImpl::deliver); every
// other send publishes the run first; and what a distribution deferred (its
// frames for idle peer sockets, written by this thread: see
// spi::defer_to_end_of_turn). Messages still arrive in send order per sender
// and receiver, and a run is published before the turn sends to anyone else,
// spawns, or blocks, so what a receiver can learn from others never overtakes
// it; only the time a run becomes visible moves, to at most the end of the
// turn.
//
// Every member is thread-local: written and read only by the thread whose
// turn it is.
struct TurnSends {
  // The turn's latest run of sends to one local process.
  struct LocalRun {
    RuntimeImpl* runtime = nullptr;
    Process* target = nullptr;  // null: no run
    uint32_t serial = 0;
    Envelope* first = nullptr;  // linked in send order
    Envelope* last = nullptr;
    int count = 0;
    bool plain = true;  // only messages (no signals, no replies)
  };

  static thread_local constinit bool in_turn;
  // The process whose turn this thread runs (null outside a turn).
  static thread_local constinit Process* current;
  static thread_local constinit LocalRun local_run;
  // The distribution whose end_of_turn() is due (null: none).
  static thread_local constinit spi::Distribution* deferred;

  // Publishes all that the turn put off (at the end of a turn).
  static void flush() {
    flush_local();
    if (deferred) flush_deferred();
  }
  // Before the thread blocks inside a turn (an Inbox waited on in a process,
  // a blocking connect): flush(), and let other workers run the process this
  // one was about to run next.
  static void before_blocking();
  // Publishes the local run, if there is one.
  static void flush_local() {
    if (local_run.target) publish_local_run();
  }
  static void publish_local_run();
  static void flush_deferred();
};

// A turn's run of sends to one process, published as one in-queue node; drain
// splices a plain run onto the private queue without touching its envelopes,
// which a receiver on another core then meets once, when it receives them.
struct RunEnvelope final : Envelope {
  RunEnvelope(Envelope* first_env, Envelope* last_env, uint32_t run_count, bool plain_run)
      : Envelope(nullptr, EnvelopeKind::kRun),
        first(first_env),
        last(last_env),
        count(run_count),
        plain(plain_run) {}
  Envelope* first;  // linked in send order; last->next is null
  Envelope* last;
  uint32_t count;  // envelopes from first to last
  bool plain;      // only messages (no signals, no replies)
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
  // Every layer's collectors (Runtime::metrics); this runtime's own is the
  // first, removed before the parts it reads go.
  MetricsRegistry metrics;
  MetricsRegistry::Registration own_metrics;
  void write_metrics(MetricsWriter& out) const;
  std::atomic<uint64_t> next_ref{1};
  std::atomic<bool> shut_down{false};
  // Where envelopes for other nodes go (spi::attach); null: nowhere.
  std::atomic<spi::Distribution*> distribution{nullptr};

  // ---- Sending
  // Delivers `env` to `to`, or answers for a dead `to` (see on_dead_target);
  // with kMayJoinRun, in a turn, it may join the turn's run (TurnSends).
  void deliver(Pid to, Envelope* env, Publish publish = Publish::kNow);
  // Adds `env` (an envelope or a RunEnvelope for incarnation to.serial of
  // `p`) to p's in-queue, or answers for it if p has exited.
  void push(Process* p, Pid to, Envelope* env);
  // Sends a signal of `kind` from `from` with payload T.
  template <class T, class... Args>
  void send_signal(Pid to, EnvelopeKind kind, Pid from, Ref ref, Args&&... args) {
    Envelope* env = make_envelope<T>(kind, std::forward<Args>(args)...);
    env->from = from;
    env->ref = ref;
    deliver(to, env);
  }
  // Monitors by `watcher` under `ref`: of `target` (a pid), or of the name
  // in `by_name` (then `target` is the pid it has here, or null).
  void send_monitor(Process* watcher, Ref ref, Pid target, MonitoredName* by_name = nullptr);
  // Ends `watcher`'s monitor `ref` of `target`, whether made by pid or by name.
  void send_demonitor(Process* watcher, Ref ref, Pid target);
  // A monitor or demonitor for the name on another node (spi::Distribution::route_named).
  void route_named(const std::string& node, const std::string& name, Envelope* env);
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
  // At the end of a turn (or wherever the run loop would go on): true if a
  // transport asked to suspend `p` and no resume came first; `p` is then in
  // no queue, and another thread may own it.
  bool suspend_if_asked(Process* p) {
    uint8_t asked = kSuspendAsked;
    if (p->suspend.load(std::memory_order_relaxed) == kNotSuspended) return false;
    return p->suspend.compare_exchange_strong(asked, kSuspended, std::memory_order_acq_rel);
  }
  // Ends a suspension of incarnation `serial` of `p` (spi::resume).
  void resume(Process* p, uint32_t serial);
  // resume(), if an exit signal just pushed to p finds it suspended.
  void resume_for_exit(Process* p, uint32_t serial);

  // Records the child's side of `ties` in a child not started yet: the one
  // place that seeds a new process's links and monitors (a local spawn_link
  // or spawn_monitor, and a spawn for another node).
  static void tie(Process* child, const spi::ChildTies& ties) {
    if (ties.linked) extras(child).links.insert(ties.linked, 1);
    if (ties.monitored_by) extras(child).monitors_in.insert(ties.monitor_ref, ties.monitored_by);
  }
  bool alive(Pid pid) const;
  // What `p` is doing, as it answers a ProcessInfo request (owner only).
  ProcessInfo info_of(Process* p) const;
  // This node's name, from its distribution; empty without one.
  const std::string& node_name() const;
  bool log_enabled(LogLevel level) const {
    return level >= options.log_level && level != LogLevel::kNone && options.log_sink;
  }
  void log(LogLevel level, std::string_view text) const {
    if (!log_enabled(level)) return;
    options.log_sink(LogRecord{std::chrono::system_clock::now(), level, node_name(), text});
  }

 private:
  // Adds `env` to this thread's run of sends (see TurnSends).
  void add_to_run(Process* p, uint32_t serial, Envelope* env);
  // Takes one arrival out of the in-queue: a signal is handled, a message
  // queued privately, one for an earlier incarnation answered as dead.
  void take_arrival(Process* p, uint32_t serial, Envelope* env);
  void handle_signal(Process* p, Envelope* env);
  void run_coroutine(Process* p);
  void run_server(Process* p);
  // Runs a Server's init() and acks its starter; false if it ended the process.
  bool init_server(Process* p);

 public:
  // Sends the waiting starter of `p` (if any) its InitAck (see ack_init in
  // plexus/detail/init_ack.h). Owner only.
  void ack_init(Process* p, const Status& status);

 private:
  void finish_body(Process* p);
  // Runs one Server callback; false if it ended the process.
  template <class F>
  bool server_callback(Process* p, F&& callback);
  void schedule_woken(Process* p);
};

// The exit reason for an exception caught while a process ran.
ExitReason reason_from_current_exception();

}  // namespace plexus::detail

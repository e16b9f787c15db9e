// Supervisors: restart children by strategy, as OTP's supervisor and
// Elixir's DynamicSupervisor.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <string>
#include <type_traits>
#include <vector>

#include "plexus/context.h"
#include "plexus/pid.h"
#include "plexus/status.h"
#include "plexus/task.h"

namespace plexus {

class Runtime;

// When a child is restarted: permanent always, transient only after an
// abnormal exit (not normal, shutdown or {shutdown, _}), temporary never.
enum class Restart { kPermanent, kTransient, kTemporary };

// The rule above: true if a child of `restart` that exited with `reason` is
// restarted.
bool restarts(Restart restart, const ExitReason& reason);

// OTP's restart intensity: more than `max_restarts` restarts within
// `period_ms` are too many (the supervisor gives up). Times are the
// runtime's (Runtime::now_ms).
class RestartIntensity {
 public:
  RestartIntensity(int max_restarts, int64_t period_ms)
      : max_restarts_(max_restarts), period_ms_(period_ms) {}
  // Counts a restart at `now_ms`: true if it is one too many.
  bool exceeded(int64_t now_ms);

 private:
  int max_restarts_;
  int64_t period_ms_;
  std::deque<int64_t> times_;  // of the restarts within the period
};

// Which children a failure restarts: the failed one; all of them; the failed
// one and those started after it.
enum class RestartStrategy { kOneForOne, kOneForAll, kRestForOne };

// How a child is stopped: exit(child, kill) at once; exit(child, shutdown)
// then kill after `timeout`; or exit(child, shutdown) and wait for ever.
struct Shutdown {
  enum class Kind { kBrutalKill, kTimeout, kInfinity };
  Kind kind = Kind::kTimeout;
  std::chrono::milliseconds timeout{5000};

  static Shutdown brutal_kill() { return {Kind::kBrutalKill, std::chrono::milliseconds(0)}; }
  static Shutdown after(std::chrono::milliseconds t) { return {Kind::kTimeout, t}; }
  static Shutdown infinity() { return {Kind::kInfinity, std::chrono::milliseconds(0)}; }
};

// How a supervisor starts a child, called in the supervisor's process, which
// the child must be linked to. Any callable of the supervisor's Context that
// returns
//   - a Pid: `[](Context sup) { return sup.spawn_link(worker); }` (a null pid:
//     the start failed);
//   - a Result<Pid>: an error is a failed start with its reason, an OK null
//     pid a child that declined to start (OTP's `ignore`);
//   - a Task<Result<Pid>>, the same awaited: a start that waits, as
//     Context::start_server_link does (see server_child below).
// A start that throws has failed, with the exception as its reason.
class ChildStart {
 public:
  ChildStart() = default;
  template <class F>
  requires std::is_invocable_v<F&, Context> ChildStart(F f);  // NOLINT: implicit by design

  explicit operator bool() const { return static_cast<bool>(fn_); }
  // The child's pid, an OK null pid for `ignore`, or why it did not start.
  Task<Result<Pid>> operator()(Context sup) const;

 private:
  std::function<Task<Result<Pid>>(Context)> fn_;
};

// A child that is a Server of type S made from `args` (copied for each
// start), started with start_server_link: the supervisor waits for its
// init(), whose error is a failed start and whose ignore() an ignored one.
template <class S, class... Args>
ChildStart server_child(Args... args);

struct ChildSpec {
  std::string id;
  // Starts the child linked to the supervisor (see ChildStart).
  ChildStart start;
  Restart restart = Restart::kPermanent;
  Shutdown shutdown = Shutdown::after(std::chrono::milliseconds(5000));
  bool supervisor = false;  // the child is itself a supervisor (for count_children)
};

struct SupervisorFlags {
  RestartStrategy strategy = RestartStrategy::kOneForOne;
  // More than max_restarts restarts within max_seconds make the supervisor
  // stop its children and exit with `shutdown`.
  int max_restarts = 3;
  std::chrono::seconds max_seconds{5};
};

struct ChildInfo {
  std::string id;  // empty for DynamicSupervisor children
  Pid pid;         // null if the child is not running
  bool supervisor = false;
};

struct ChildCounts {
  int specs = 0;
  int active = 0;
  int supervisors = 0;
  int workers = 0;
};

// Requests a supervisor serves with call(); the helpers below wrap them.
namespace supervisor_requests {
struct WhichChildren {};
struct CountChildren {};
struct StartChild {
  ChildSpec spec;
};
struct TerminateChild {
  std::string id;  // a static supervisor's child id
  Pid pid;         // a DynamicSupervisor's child
};
struct RestartChild {
  std::string id;
};
struct DeleteChild {
  std::string id;
};
}  // namespace supervisor_requests

// Starts a supervisor with `children`, started in order; linked to `parent`.
// If a child's start fails, the supervisor stops the ones started and exits
// with {shutdown,{failed_to_start_child,Id,Reason}}. An exit signal from its
// parent (for a top-level one, from outside any process: Runtime::exit)
// stops its children in reverse order, then it exits with that reason.
Pid start_supervisor(Context parent, SupervisorFlags flags, std::vector<ChildSpec> children);
// The same, not linked to anything (a top-level supervisor).
Pid start_supervisor(Runtime& runtime, SupervisorFlags flags, std::vector<ChildSpec> children);

struct DynamicSupervisorFlags {
  int max_restarts = 3;
  std::chrono::seconds max_seconds{5};
  int max_children = -1;  // -1: no limit; start_child beyond it is kResourceExhausted
};

// A one_for_one supervisor with no static children; children are added with
// start_child and named by pid.
Pid start_dynamic_supervisor(Context parent, DynamicSupervisorFlags flags);
Pid start_dynamic_supervisor(Runtime& runtime, DynamicSupervisorFlags flags);

// Client calls, from a process body. (From a thread, use Inbox::call with the
// requests above.)
namespace supervisor {
// Starts a supervisor linked to `parent` and waits until its children have
// started, as supervisor:start_link: its pid, or why it did not start.
Task<Result<Pid>> start_link(Context parent, SupervisorFlags flags,
                             std::vector<ChildSpec> children);
Task<Result<Pid>> start_dynamic_link(Context parent, DynamicSupervisorFlags flags);

// A child that is a supervisor, started with start_link (for trees).
ChildStart child(SupervisorFlags flags, std::vector<ChildSpec> children);
ChildStart dynamic_child(DynamicSupervisorFlags flags);

// The new child's pid; an OK null pid if it declined (ignore); or why it
// failed, as supervisor:start_child.
Task<Result<Pid>> start_child(Context self, Pid sup, ChildSpec spec);
Task<Result<bool>> terminate_child(Context self, Pid sup, std::string id);
Task<Result<bool>> terminate_child(Context self, Pid sup, Pid child);
Task<Result<Pid>> restart_child(Context self, Pid sup, std::string id);
Task<Result<bool>> delete_child(Context self, Pid sup, std::string id);
Task<Result<std::vector<ChildInfo>>> which_children(Context self, Pid sup);
Task<Result<ChildCounts>> count_children(Context self, Pid sup);
}  // namespace supervisor

}  // namespace plexus

#include "plexus/detail/supervisor_templates.h"

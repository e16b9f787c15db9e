// The service-provider interface between the runtime and a distribution: a
// transport that carries envelopes to processes on other nodes (plexus::node
// is one). The runtime knows nothing of sockets; this header is everything a
// transport may use of it, and the only way in. Not for applications. (The
// zen monitor uses signal() too: it makes its Connector's monitors of local
// targets on the subscriber's thread.)
//
// Who calls what:
//   runtime -> distribution   Distribution::route (a send, a signal, a call to
//                             a pid of another node), Distribution::end_of_turn
//   distribution -> runtime   deliver / signal / exit_signal (what arrived),
//                             answer_dead (what cannot be delivered),
//                             make_process + start_child (a remote spawn),
//                             in_turn / defer_to_end_of_turn / before_blocking
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "plexus/detail/envelope.h"
#include "plexus/detail/process.h"
#include "plexus/exit_reason.h"
#include "plexus/pid.h"
#include "plexus/runtime.h"

namespace plexus::spi {

using detail::Envelope;
using detail::EnvelopeKind;

// A transport, as the runtime sees it.
class Distribution {
 public:
  // Takes ownership of `env`, addressed to `to` on another node (to.node !=
  // 0). Called from any thread, in a process's turn or outside any. An
  // unreachable target is answered as a dead one: answer_dead(..., noconnection).
  virtual void route(Pid to, Envelope* env) = 0;
  // Takes ownership of `env`, a monitor or demonitor for the process
  // registered as `name` on the node `node` (another one): the monitor's
  // target is looked up there by name, the demonitor's by its ref. An
  // unreachable node is answered as answer_dead(Pid{}, env, noconnection).
  virtual void route_named(const std::string& node, const std::string& name, Envelope* env) = 0;
  // This node's name (the Node of a monitor's {Name, Node}).
  virtual const std::string& node_name() const = 0;
  // Publishes what defer_to_end_of_turn put off on the calling thread. Called
  // once per deferral: when the turn ends, or before its thread blocks.
  virtual void end_of_turn() = 0;

 protected:
  ~Distribution() = default;
};

// Routes `rt`'s envelopes for other nodes to `d` (null: none; they are then
// answered with noconnection). `d` must outlive every route call made while
// it is attached: detach it, and stop every thread that sends, first.
void attach(Runtime& rt, Distribution* d);
// The distribution attached to `rt`, or null.
Distribution* attached(Runtime& rt);

// ---- The calling thread's process turn

// True while the calling thread runs a process's turn.
bool in_turn();
// Has d->end_of_turn() called when the calling thread's turn ends (or before
// it blocks). Only in a turn. One deferral at a time per thread: deferring
// another distribution first runs the pending one's end_of_turn.
void defer_to_end_of_turn(Distribution* d);
// The calling thread is about to block inside a turn (waiting for room in a
// peer's buffer, for a connection): publishes everything the turn put off,
// and lets other scheduler threads run the process this one would have run
// next. A no-op outside a turn.
void before_blocking();

// Suspends the process whose turn the calling thread runs, from the end of
// this turn until resume(): it is not scheduled meanwhile, whatever arrives,
// except an exit signal (which resumes it). For a transport whose peer cannot
// take more: only the sender waits, never its thread, as Erlang suspends a
// process on a busy distribution port. Returns the process's pid, for resume;
// the null pid outside a process's turn. A resume that comes before the turn
// ends cancels the suspension.
Pid suspend_current();
// Ends the suspension of `pid`; a no-op for one that is not suspended or has
// exited. Any thread.
void resume(Runtime& rt, Pid pid);

// ---- What arrives from other nodes

// Delivers `env` to the local process `to` (to.node == 0) at once, in
// arrival order with everything else sent to it; a dead `to` is answered as
// by answer_dead(..., noproc).
void deliver(Runtime& rt, Pid to, Envelope* env);
// Delivers a signal of `kind` from `from`, carrying a T made of `args`.
template <class T, class... Args>
void signal(Runtime& rt, Pid to, EnvelopeKind kind, Pid from, Ref ref, Args&&... args) {
  Envelope* env = detail::make_envelope<T>(kind, std::forward<Args>(args)...);
  env->from = from;
  env->ref = ref;
  deliver(rt, to, env);
}
// exit(to, reason) from `from`, with erlang:exit/2's rules (a kill makes the
// target not alive at once).
void exit_signal(Runtime& rt, Pid from, Pid to, ExitReason reason);
// Takes ownership of `env`, which cannot reach `to`: a link is answered with
// an exit signal `reason` to its sender, a monitor with a Down `reason`; the
// rest is dropped.
void answer_dead(Runtime& rt, Pid to, Envelope* env, const ExitReason& reason);

// ---- Processes started for another node

// A process running `body(Context, args...)` (see Runtime::spawn), made but
// not started: null if the table is full or the runtime is shutting down.
template <class F, class... Args>
detail::Process* make_process(Runtime& rt, F&& body, Args&&... args) {
  return detail::RuntimeAccess::make_process(rt, std::forward<F>(body),
                                             std::forward<Args>(args)...);
}

// What a child started for another process is tied to before it runs.
struct ChildTies {
  Pid linked;        // the child is linked to this pid (null: to none)
  Pid monitored_by;  // this pid monitors the child under `monitor_ref` (null: none)
  Ref monitor_ref;
};
// Records the child's side of `ties` in `child` (made by make_process and not
// yet started) and starts it; the other side is the caller's to set up.
// Returns the child's pid.
Pid start_child(Runtime& rt, detail::Process* child, const ChildTies& ties);

// ---- Deterministic runtimes, stepped by a transport (a loopback network)

// The virtual time (Runtime::now_ms) of `rt`'s next timer, or none. Only for
// a runtime with RuntimeOptions::deterministic.
std::optional<int64_t> next_timer_ms(Runtime& rt);

}  // namespace plexus::spi

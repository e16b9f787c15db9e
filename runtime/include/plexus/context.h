// Context: what a process can do to itself and to others. Handed to every
// process body (`Task<> body(Context self)`) and available to Servers.
#pragma once

#include <chrono>
#include <string>
#include <utility>

#include "plexus/detail/process.h"
#include "plexus/exit_reason.h"
#include "plexus/message.h"
#include "plexus/pid.h"
#include "plexus/process_info.h"
#include "plexus/receive.h"
#include "plexus/status.h"
#include "plexus/task.h"

namespace plexus {

class Runtime;
namespace detail {
struct RuntimeAccess;
}  // namespace detail

// Thrown by Context::exit(reason) to end the calling process with `reason`;
// the runtime catches it. Not an error: it is never logged as a crash.
struct ProcessExit {
  ExitReason reason;
};

// Whether demonitor() also removes a Down for the ref that already arrived.
enum class Flush : bool { kNo = false, kYes = true };

// A handle to the running process, cheap to copy. Use it only from the
// process's own body or callbacks: like Erlang's `self()`, it means "me".
class Context {
 public:
  explicit Context(detail::Process* p) : p_(p) {}

  Pid self() const { return p_->pid(); }
  Runtime& runtime() const { return *p_->runtime; }

  // ---- Messages
  // Sends `msg` to `to`; never blocks; a dead `to` makes it a no-op.
  // Called by the process during its turn, consecutive sends to one local
  // process leave together: they are in its mailbox, in order, once the
  // process sends to anyone else, spawns, receives, blocks in the runtime
  // (an Inbox, a blocking connect) or ends its turn, whichever comes first
  // (one atomic publication instead of one per message). Runtime::send
  // publishes at once, from anywhere, after what the turn held back.
  template <class T>
  Status send(Pid to, T&& msg) const;
  // Sends to a registered name; kNotFound if no process has that name.
  template <class T>
  [[nodiscard]] Status send(const std::string& name, T&& msg) const;

  // Waits for the first message (in mailbox order) that one of the handlers
  // takes, leaving the others queued, as Erlang's `receive`. A handler is a
  // callable taking the message type (`[&](Ping& p) {...}`), a match(guard,
  // handler), or a Call<T> for requests; after(timeout, f) ends the wait.
  // Resumes with true if a message matched, false if the timeout fired.
  template <class... Ps>
  auto receive(Ps&&... patterns) const {
    return detail::ReceiveAwaiter<decltype(detail::as_pattern(std::forward<Ps>(patterns)))...>(
        p_, detail::as_pattern(std::forward<Ps>(patterns))...);
  }
  // Waits for the first message of type T and resumes with it.
  template <class T>
  auto receive() const {
    return detail::ValueReceive<T, false>(p_, -1);
  }
  // As receive<T>() with a timeout: resumes with an empty optional if none came.
  template <class T, class Rep, class Period>
  auto receive(std::chrono::duration<Rep, Period> timeout) const {
    return detail::ValueReceive<T, true>(p_, detail::to_ms(timeout));
  }
  // Waits up to `timeout` for the first message of any type, in arrival order.
  template <class Rep, class Period>
  detail::AnyReceive receive_any(std::chrono::duration<Rep, Period> timeout) const {
    return detail::AnyReceive(p_, detail::to_ms(timeout));
  }
  // As receive_any(), and calls and casts too: whatever a process's mailbox
  // holds next but signals (Exit and Down of a trapping process are messages).
  template <class Rep, class Period>
  detail::AnyReceive receive_any_request(std::chrono::duration<Rep, Period> timeout) const {
    return detail::AnyReceive(p_, detail::to_ms(timeout), true);
  }
  // Sends `msg` (from receive_any or receive_any_request) on to `to` as it
  // arrived: a call keeps its caller and reference, so `to` replies to the
  // caller. Published at once. A message of a type with no wire form cannot
  // go to another node (dropped, as a send of it would be refused).
  Status forward(Pid to, Message msg) const;
  // Ends this turn and lets other processes run (fairness for long loops).
  detail::YieldAwaiter yield() const { return detail::YieldAwaiter(p_); }

  // Calls `to` with `request` and waits for its reply of type R, as
  // gen_server:call: kNoProc if `to` is not alive, kExited if it exits before
  // replying, kTimeout after `timeout`, kBadType if the reply is not an R. A
  // call to oneself exits the caller at once with `{calling_self,{call,Pid}}`
  // (it could only time out), as gen_server:call does.
  template <class R, class Req>
  Task<Result<R>> call(Pid to, Req request,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // Replies to a call (now, or later from a stored From).
  template <class T>
  Status reply(const From& from, T&& value) const;
  // Sends `msg` to a Server as a cast (handled by handle_cast).
  template <class T>
  Status cast(Pid to, T&& msg) const;

  // ---- Processes
  template <class F, class... Args>
  Pid spawn(F&& body, Args&&... args) const;
  // Spawns and links atomically.
  template <class F, class... Args>
  Pid spawn_link(F&& body, Args&&... args) const;
  // Spawns and monitors atomically.
  template <class F, class... Args>
  std::pair<Pid, Ref> spawn_monitor(F&& body, Args&&... args) const;
  // Starts a Server of type S, linked to this process, without waiting for
  // its init() (a failure there reaches this process as an exit signal).
  template <class S, class... Args>
  Pid spawn_server_link(Args&&... args) const;
  // Starts a Server of type S linked to this process and waits for its
  // init(), as gen_server:start_link: its pid; an OK result with the null pid
  // if it declined (Server::ignore); or why it failed (init's error, or kExited
  // if it died first), with no exit signal from it.
  template <class S, class... Args>
  Task<Result<Pid>> start_server_link(Args... args) const;
  // The same, not linked (gen_server:start).
  template <class S, class... Args>
  Task<Result<Pid>> start_server(Args... args) const;

  // Links to `pid` (idempotent). If `pid` is not alive: a trapping process
  // gets Exit{pid, noproc}; otherwise kNoProc is returned.
  [[nodiscard]] Status link(Pid pid) const;
  // Removes the link; no exit signal from it reaches this process afterwards.
  void unlink(Pid pid) const;
  // Monitors `pid`: exactly one Down{ref, pid, reason} arrives, at once with
  // `noproc` if `pid` is not alive. Monitoring oneself makes no monitor (the
  // ref names none; no Down comes), as in Erlang.
  Ref monitor(Pid pid) const;
  // Monitors the process registered as `name` now, as erlang:monitor(process,
  // Name): as monitor(pid) of its pid, and the Down names the monitor by
  // `name` and this node (Erlang's {Name, Node}). At once with noproc (and a
  // null pid) if no process has the name; none if this process has it.
  Ref monitor(const std::string& name) const;
  // The same for the name on `node`, as erlang:monitor(process, {Name,
  // Node}): the name is looked up on `node` when the monitor arrives there.
  // noconnection if `node` cannot be reached (or this runtime has no node);
  // `node` empty or this node's: monitor(name).
  Ref monitor(const std::string& name, const std::string& node) const;
  // Removes the monitor; no Down for it arrives afterwards. With Flush::kYes a
  // Down that already arrived is removed too. True if the monitor was active.
  bool demonitor(Ref ref, Flush flush = Flush::kNo) const;

  // This process's ProcessInfo now (status kRunning).
  ProcessInfo process_info() const;
  // Asks the process `pid` of this node about itself and waits for the
  // answer, as erlang:process_info/1: kNoProc if it is not alive,
  // kInvalidArgument for a pid of another node, kTimeout without an answer
  // within `timeout` (a turn that does not end, or a process suspended on a
  // full peer).
  Task<Result<ProcessInfo>> process_info(
      Pid pid, std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  // Turns exit signals into Exit messages (true) or lets them kill (false).
  void trap_exit(bool on) const { p_->trap_exit = on; }
  bool trapping_exits() const { return p_->trap_exit; }

  // Sends an exit signal to `pid`, as erlang:exit/2.
  void exit(Pid pid, ExitReason reason) const;
  // Ends the calling process with `reason` (throws ProcessExit).
  [[noreturn]] void exit(ExitReason reason) const { throw ProcessExit{std::move(reason)}; }

  // Registers this process under `name`; kAlreadyExists if taken or if this
  // process already has a name.
  [[nodiscard]] Status register_name(const std::string& name) const;

  // Removes every message from the mailbox (Erlang's flush()); returns how many.
  size_t flush() const;
  // Removes the queued messages of type T for which `pred(const T&)` is true,
  // leaving the others in order; returns how many. For a message that must
  // not be received, as demonitor with Flush::kYes removes a Down.
  template <class T, class Pred>
  size_t discard(Pred pred) const {
    return discard_matching(
        type_id<T>(),
        [](const void* p, detail::Envelope* env) {
          return (*static_cast<const Pred*>(p))(detail::payload<T>(env));
        },
        &pred);
  }
  // Messages in the mailbox, received or not yet matched.
  size_t message_queue_len() const;

 private:
  friend struct detail::RuntimeAccess;
  size_t discard_matching(TypeId type, bool (*matches)(const void* pred, detail::Envelope*),
                          const void* pred) const;

  detail::Process* p_;
};

}  // namespace plexus

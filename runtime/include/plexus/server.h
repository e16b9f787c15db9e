// Server: a process written as callbacks (gen_server), with no coroutine frame.
#pragma once

#include <chrono>
#include <utility>

#include "plexus/context.h"
#include "plexus/exit_reason.h"
#include "plexus/message.h"
#include "plexus/receive.h"
#include "plexus/status.h"

namespace plexus {

namespace detail {
class RuntimeImpl;
}

// Subclass and override what you need. Start one as gen_server does: with
// Context::start_server_link<S>() (linked; waits for init(), as
// gen_server:start_link) or Context::start_server<S>() (unlinked, as
// gen_server:start); or without waiting with Context::spawn_server_link<S>()
// or Runtime::spawn_server<S>(). Callbacks run one at a time in the server's
// process; messages arrive in order:
//   a call()   -> handle_call(request, from); reply now or later with reply()
//   a cast()   -> handle_cast(msg)
//   any other  -> handle_info(msg) (Exit and Down too, see trap_exit)
// An exception thrown by a callback ends the process with that exception as
// its reason, after terminate().
//
// Its parent is the process that started it (the outside world for
// Runtime::spawn_server). A server that traps exits stops when an exit
// signal from its parent arrives: terminate() runs with the parent's reason,
// and the server exits with it (a supervisor's shutdown reaches it this
// way). One that does not trap is ended by the signal at once, without
// terminate(), as in OTP.
class Server {
 public:
  virtual ~Server() = default;

  // Runs first, in the new process; a starter that waits
  // (start_server_link) waits for it. An error ends the process with an error
  // reason made of the status text, as a throw ends it with the exception
  // (terminate is not called; a waiting starter gets the error and no exit
  // signal). ignore() declines to start: the process ends with reason
  // normal, and a waiting starter gets an OK result with the null pid.
  virtual Status init() { return Status::OK(); }
  // What init() returns to decline to start (OTP's `ignore`).
  static Status ignore() { return Status(StatusCode::kIgnored, "ignore"); }
  // Default: ends the server with an "unexpected call" error, as gen_server.
  virtual void handle_call(Message& request, const From& from);
  // Default: ends the server with an "unexpected cast" error.
  virtual void handle_cast(Message& msg);
  // Default: logs the message and drops it.
  virtual void handle_info(Message& msg);
  // The idle timeout set with set_idle_timeout() elapsed with no message.
  virtual void handle_timeout() {}
  // Runs when the server stops by stop() or by an exception (not when it is
  // killed by an exit signal it does not trap).
  virtual void terminate(const ExitReason& reason) { (void)reason; }

 protected:
  // The server's own process.
  Context self() const { return Context(process_); }
  template <class T>
  Status reply(const From& from, T&& value) const {
    return self().reply(from, std::forward<T>(value));
  }
  // Stops the server with `reason` once the running callback returns.
  void stop(ExitReason reason = ExitReason::normal()) {
    stop_requested_ = true;
    stop_reason_ = std::move(reason);
  }
  // After each callback, if no message arrives within `timeout`,
  // handle_timeout() runs. Zero or negative turns it off.
  void set_idle_timeout(std::chrono::milliseconds timeout) {
    idle_timeout_ms_ = timeout.count() > 0 ? timeout.count() : -1;
  }

 private:
  friend class detail::RuntimeImpl;
  detail::Process* process_ = nullptr;
  bool stop_requested_ = false;
  ExitReason stop_reason_;
  int64_t idle_timeout_ms_ = -1;
};

}  // namespace plexus

// Inbox: a real process driven by an ordinary thread (main(), a test, an I/O
// thread) that blocks to receive.
#pragma once

#include <chrono>
#include <optional>
#include <utility>

#include "plexus/context.h"
#include "plexus/receive.h"
#include "plexus/runtime.h"

namespace plexus {

// Has a pid, so processes can send to it, link to it and monitor it; it can
// link, monitor and trap exits itself (through context()) and receive with
// the same patterns as a process body, blocking the calling thread. In a
// deterministic runtime, receiving drives the scheduler on the calling thread.
//
// Use it from one thread at a time. The Inbox exits `normal` when destroyed;
// destroy it before its Runtime.
class Inbox {
 public:
  explicit Inbox(Runtime& runtime);
  ~Inbox();
  Inbox(const Inbox&) = delete;
  Inbox& operator=(const Inbox&) = delete;

  Pid pid() const { return pid_; }
  // For send, link, monitor, trap_exit, exit... (not for the co_await calls).
  // Only while alive(): once the inbox has exited, its slot may belong to
  // another process.
  Context context() const { return Context(process_); }
  // False once an exit signal ended this inbox (see exit_reason()).
  bool alive() const { return !exited_; }
  const ExitReason& exit_reason() const { return exit_reason_; }

  // As Context::receive, blocking: true if a message matched, false on
  // timeout (or if the inbox is no longer alive).
  template <class... Ps>
  bool receive(Ps&&... patterns) {
    detail::ReceiveAwaiter<decltype(detail::as_pattern(std::forward<Ps>(patterns)))...> r(
        process_, detail::as_pattern(std::forward<Ps>(patterns))...);
    if (!wait(r)) return false;
    return r.await_resume();
  }
  // The first message of type T within `timeout`.
  template <class T>
  std::optional<T> receive(std::chrono::milliseconds timeout) {
    detail::ValueReceive<T, true> r(process_, detail::to_ms(timeout));
    if (!wait(r)) return std::nullopt;
    return r.await_resume();
  }
  // Any message within `timeout`, in arrival order.
  std::optional<Message> receive_any(std::chrono::milliseconds timeout);

  // A blocking Context::process_info.
  Result<ProcessInfo> process_info(Pid pid,
                                   std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    return run_call(context().process_info(pid, timeout));
  }

  // A blocking Context::call.
  template <class R, class Req>
  Result<R> call(Pid to, Req request, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
    Task<Result<R>> task = context().call<R>(to, std::move(request), timeout);
    return run_call(std::move(task));
  }

 private:
  // Blocks until `r` completes. False if the inbox exited meanwhile.
  bool wait(detail::PendingReceive& r);
  template <class R>
  Result<R> run_call(Task<Result<R>> task);

  Runtime& runtime_;
  detail::Process* process_;
  Pid pid_;
  bool exited_ = false;
  ExitReason exit_reason_;
};

namespace detail {
// Runs a call coroutine to completion on the calling thread, waiting with the
// inbox's wait() whenever it suspends in a receive.
template <class R>
struct CallDriver {
  static Task<> capture(Task<Result<R>> task, std::optional<Result<R>>* out) {
    out->emplace(co_await std::move(task));
  }
};
}  // namespace detail

template <class R>
Result<R> Inbox::run_call(Task<Result<R>> task) {
  std::optional<Result<R>> out;
  Task<> driver = detail::CallDriver<R>::capture(std::move(task), &out);
  auto handle = driver.release();
  process_->leaf = handle;
  process_->receive = nullptr;
  handle.resume();
  while (!handle.done()) {
    if (!wait(*process_->receive)) {
      handle.destroy();
      return Status(StatusCode::kShutdown, "inbox exited during a call");
    }
    process_->leaf.resume();
  }
  handle.destroy();
  return std::move(*out);
}

}  // namespace plexus

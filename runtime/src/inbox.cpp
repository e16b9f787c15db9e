#include "plexus/inbox.h"

#include "runtime_impl.h"

namespace plexus {

using detail::InboxWaiter;
using detail::Process;
using detail::RuntimeAccess;
using detail::RuntimeImpl;

Inbox::Inbox(Runtime& runtime)
    : runtime_(runtime),
      process_(RuntimeAccess::allocate_process(runtime, detail::ProcessKind::kInbox)) {
  if (!process_) {
    exited_ = true;
    exit_reason_ = ExitReason::error("process table full");
    return;
  }
  process_->inbox = new InboxWaiter;
  process_->started = true;
  process_->budget = 1 << 30;
  pid_ = RuntimeAccess::start(runtime, process_);
}

Inbox::~Inbox() {
  // A runtime shut down first has already ended every process, this one too.
  if (exited_ || RuntimeAccess::impl(runtime_).shut_down.load(std::memory_order_acquire)) return;
  RuntimeAccess::impl(runtime_).drain(process_);
  RuntimeAccess::impl(runtime_).terminate(
      process_, process_->exit_pending ? process_->exit_reason : ExitReason::normal());
}

bool Inbox::wait(detail::PendingReceive& r) {
  if (exited_) return false;
  RuntimeImpl& rt = RuntimeAccess::impl(runtime_);
  Process* p = process_;
  auto* waiter = static_cast<InboxWaiter*>(p->inbox);
  const int64_t timeout = r.timeout_ms();
  const int64_t deadline = timeout < 0 ? INT64_MAX : rt.timers.now_ms() + timeout;
  for (;;) {
    if (r.try_complete()) return true;
    if (p->exit_pending) {
      exit_reason_ = p->exit_reason;
      exited_ = true;
      rt.terminate(p, exit_reason_);
      return false;
    }
    if (rt.options.deterministic) {
      // Drive the scheduler on this thread; when nothing can run, move
      // virtual time to the next timer (or to our deadline).
      if (runtime_.step()) continue;
      std::optional<int64_t> next = rt.timers.next_deadline();
      if (next && *next <= deadline) {
        rt.timers.advance_to(*next);
        continue;
      }
      if (deadline != INT64_MAX) rt.timers.advance_to(deadline);
      p->timeout_fired = true;  // nothing can ever arrive: give up now
      continue;
    }
    if (!rt.park(p)) continue;  // something arrived meanwhile
    // An inbox waiting inside a process's turn: what the turn put off leaves
    // now, not when the turn ends.
    detail::TurnSends::before_blocking();
    std::unique_lock<std::mutex> lock(waiter->mu);
    bool woken;
    if (deadline == INT64_MAX) {
      waiter->cv.wait(lock, [&] { return waiter->signaled; });
      woken = true;
    } else {
      auto until = std::chrono::steady_clock::now() +
                   std::chrono::milliseconds(deadline - rt.timers.now_ms());
      woken = waiter->cv.wait_until(lock, until, [&] { return waiter->signaled; });
    }
    waiter->signaled = false;
    lock.unlock();
    if (woken) continue;
    // Timed out: unpark, unless a sender just woke us.
    detail::Envelope* expected = detail::kWaiting;
    if (p->head.compare_exchange_strong(expected, nullptr, std::memory_order_acq_rel)) {
      p->timeout_fired = true;
      continue;
    }
    // A sender replaced kWaiting and is committed to signaling us: wait for
    // it, so that it is done with the waiter before this inbox can go away.
    lock.lock();
    waiter->cv.wait(lock, [&] { return waiter->signaled; });
    waiter->signaled = false;
    lock.unlock();
  }
}

std::optional<Message> Inbox::receive_any(std::chrono::milliseconds timeout) {
  detail::AnyReceive r(process_, detail::to_ms(timeout));
  if (!wait(r)) return std::nullopt;
  return r.await_resume();
}

}  // namespace plexus

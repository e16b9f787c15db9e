// The distribution SPI (plexus/spi/distribution.h) over the runtime's internals.
#include "plexus/spi/distribution.h"
#include "runtime_impl.h"

namespace plexus::spi {

using detail::RuntimeAccess;
using detail::RuntimeImpl;
using detail::TurnSends;

void attach(Runtime& rt, Distribution* d) {
  RuntimeAccess::impl(rt).distribution.store(d, std::memory_order_release);
}

Distribution* attached(Runtime& rt) {
  return RuntimeAccess::impl(rt).distribution.load(std::memory_order_acquire);
}

bool in_turn() { return TurnSends::in_turn; }

void defer_to_end_of_turn(Distribution* d) {
  if (TurnSends::deferred == d) return;
  if (TurnSends::deferred) TurnSends::flush_deferred();
  TurnSends::deferred = d;
}

void before_blocking() { TurnSends::before_blocking(); }

Pid suspend_current() {
  detail::Process* p = TurnSends::current;
  if (!p) return Pid{};
  p->suspend.store(detail::kSuspendAsked, std::memory_order_release);
  return p->pid();
}

void resume(Runtime& rt, Pid pid) {
  if (pid.node != 0 || !pid.valid()) return;
  RuntimeImpl& impl = RuntimeAccess::impl(rt);
  if (detail::Process* p = impl.table.get(pid.index)) impl.resume(p, pid.serial);
}

void deliver(Runtime& rt, Pid to, Envelope* env) { RuntimeAccess::impl(rt).deliver(to, env); }

void exit_signal(Runtime& rt, Pid from, Pid to, ExitReason reason) {
  RuntimeAccess::impl(rt).send_exit(from, to, std::move(reason));
}

void answer_dead(Runtime& rt, Pid to, Envelope* env, const ExitReason& reason) {
  RuntimeAccess::impl(rt).on_dead_target(to, env, reason);
}

Pid start_child(Runtime& rt, detail::Process* child, const ChildTies& ties) {
  RuntimeImpl::tie(child, ties);
  return RuntimeAccess::start(rt, child);
}

std::optional<int64_t> next_timer_ms(Runtime& rt) {
  return RuntimeAccess::impl(rt).timers.next_deadline();
}

}  // namespace plexus::spi

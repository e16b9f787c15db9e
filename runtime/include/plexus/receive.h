// Selective receive: patterns matched by type (and an optional guard), in
// mailbox order, with an optional `after` timeout, as Erlang's `receive`.
#pragma once

#include <chrono>
#include <concepts>
#include <coroutine>
#include <cstdint>
#include <memory>
#include <optional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "plexus/detail/envelope.h"
#include "plexus/detail/process.h"
#include "plexus/message.h"

namespace plexus {

// Who made a call: the pid to reply to and the call's reference.
struct From {
  Pid pid;
  Ref ref;
};

// A request made with call(), as a receive pattern sees it: a plain process
// can serve calls with `[&](Call<Req>& c) { self.reply(c.from, ...); }`.
template <class T>
struct Call {
  T& request;
  From from;
};

namespace detail {

// Cancels the process's armed receive timeout, if any. Defined in the runtime.
void finish_receive(Process* p);

template <class F>
struct FirstArg : FirstArg<decltype(&F::operator())> {};
template <class C, class R, class A>
struct FirstArg<R (C::*)(A) const> {
  using type = A;
};
template <class C, class R, class A>
struct FirstArg<R (C::*)(A)> {
  using type = A;
};
template <class C, class R, class A>
struct FirstArg<R (C::*)(A) const noexcept> {
  using type = A;
};
template <class C, class R, class A>
struct FirstArg<R (C::*)(A) noexcept> {
  using type = A;
};
template <class R, class A>
struct FirstArg<R (*)(A)> {
  using type = A;
};

template <class T>
struct CallTraits : std::false_type {};
template <class T>
struct CallTraits<Call<T>> : std::true_type {
  using request = T;
};

struct NoGuard {};

// Calls `f` with a value of type A (the handler's parameter type): an lvalue
// for `T&`, an rvalue otherwise so that `T` and `T&&` parameters can move.
template <class A, class F, class V>
decltype(auto) call_with(F& f, V& value) {
  if constexpr (std::is_lvalue_reference_v<A> && !std::is_const_v<std::remove_reference_t<A>>) {
    return f(value);
  } else {
    return f(std::move(value));
  }
}

// Matches messages whose type is the handler's parameter type, or calls
// (kind kCall) when the parameter is a Call<T>.
template <class F, class G = NoGuard>
struct MessagePattern {
  using Param = typename FirstArg<std::decay_t<F>>::type;
  using Arg = std::remove_cvref_t<Param>;
  static constexpr bool kIsCall = CallTraits<Arg>::value;

  F f;
  G guard;

  bool matches(Envelope* e) {
    if constexpr (kIsCall) {
      using Req = typename CallTraits<Arg>::request;
      if (e->kind != EnvelopeKind::kCall || e->type != type_id<Req>()) return false;
      if constexpr (!std::is_same_v<G, NoGuard>) {
        Arg view{payload<Req>(e), From{e->from, e->ref}};
        return guard(view);
      }
      return true;
    } else {
      if (e->kind != EnvelopeKind::kMessage || e->type != type_id<Arg>()) return false;
      if constexpr (!std::is_same_v<G, NoGuard>) return guard(payload<Arg>(e));
      return true;
    }
  }
  void invoke(Envelope* e) {
    if constexpr (kIsCall) {
      using Req = typename CallTraits<Arg>::request;
      Arg view{payload<Req>(e), From{e->from, e->ref}};
      f(view);
    } else {
      call_with<Param>(f, payload<Arg>(e));
    }
  }
};

template <class F>
struct AfterPattern {
  int64_t ms;
  F f;
};

template <class T>
struct IsAfter : std::false_type {};
template <class F>
struct IsAfter<AfterPattern<F>> : std::true_type {};

// Anything that can test and take an envelope is a pattern (MessagePattern,
// and the internal ones such as a call's reply pattern).
template <class T>
concept EnvelopePattern = requires(T& t, Envelope* e) {
  { t.matches(e) } -> std::convertible_to<bool>;
  t.invoke(e);
};
template <class T>
struct IsMessagePattern : std::bool_constant<EnvelopePattern<T>> {};

// Turns a bare callable into a MessagePattern; passes patterns through.
template <class P>
auto as_pattern(P&& p) {
  using D = std::decay_t<P>;
  if constexpr (IsAfter<D>::value || IsMessagePattern<D>::value) {
    return D(std::forward<P>(p));
  } else {
    return MessagePattern<D>{std::forward<P>(p), {}};
  }
}

inline int64_t to_ms(std::chrono::nanoseconds d) {
  if (d <= std::chrono::nanoseconds::zero()) return 0;
  return std::chrono::ceil<std::chrono::milliseconds>(d).count();
}

// The machinery shared by every receive awaiter: drain the in-queue, scan the
// private queue from where the last scan stopped, park when nothing matches.
// Derived supplies `int match(Envelope*)` (pattern index or -1).
template <class Derived>
class ReceiveBase : public PendingReceive {
 public:
  explicit ReceiveBase(Process* p, int64_t timeout_ms) : p_(p), timeout_ms_(timeout_ms) {}
  ReceiveBase(const ReceiveBase&) = delete;
  ReceiveBase& operator=(const ReceiveBase&) = delete;

  // Looks at what is already queued before taking new arrivals, so that a
  // busy receiver does not touch the shared in-queue for every message. (The
  // run loop drains at the start of every turn, so signals such as `kill`
  // still take effect within a turn.)
  bool try_complete() final {
    if (scan()) return true;
    drain_mailbox(p_);
    if (p_->exit_pending) return false;
    if (scan()) return true;
    if (timeout_ms_ == 0 || p_->timeout_fired) {
      timed_out_ = true;
      return true;
    }
    return false;
  }
  int64_t timeout_ms() const final { return timeout_ms_; }

  bool await_ready() {
    // A receive is where a process a transport asked to suspend (its peer is
    // full) stops, even one that would complete at once.
    if (p_->suspend.load(std::memory_order_relaxed) != kNotSuspended) return false;
    if (p_->budget > 0 && try_complete()) {
      --p_->budget;
      return true;
    }
    return false;
  }
  void await_suspend(std::coroutine_handle<> h) {
    p_->leaf = h;
    p_->receive = this;
  }

 protected:
  bool scan() {
    Envelope* prev = scanned_;
    for (Envelope* e = prev ? prev->next : p_->queue_head; e != nullptr; prev = e, e = e->next) {
      int i = static_cast<Derived*>(this)->match(e);
      if (i >= 0) {
        p_->remove_private(prev, e);
        matched_.reset(e);
        index_ = i;
        return true;
      }
    }
    scanned_ = prev;
    return false;
  }

  // Called first by every await_resume.
  void finish() {
    p_->receive = nullptr;
    finish_receive(p_);
  }

  Process* p_;
  int64_t timeout_ms_;  // < 0: wait forever
  Envelope* scanned_ = nullptr;
  std::unique_ptr<Envelope> matched_;
  int index_ = -1;
  bool timed_out_ = false;
};

// co_await self.receive(handler..., after(...)): true if a message matched,
// false if the timeout fired (after its handler ran).
template <class... Ps>
class ReceiveAwaiter final : public ReceiveBase<ReceiveAwaiter<Ps...>> {
  using Base = ReceiveBase<ReceiveAwaiter<Ps...>>;

 public:
  ReceiveAwaiter(Process* p, Ps... ps)
      : Base(p, find_timeout(ps...)), patterns_(std::move(ps)...) {}

  int match(Envelope* e) { return match_from<0>(e); }

  bool await_resume() {
    this->finish();
    if (this->timed_out_) {
      run_after<0>();
      return false;
    }
    invoke_at<0>(this->index_, this->matched_.get());
    return true;
  }

 private:
  static int64_t find_timeout(const Ps&... ps) {
    int64_t ms = -1;
    ((ms = timeout_of(ps, ms)), ...);
    return ms;
  }
  template <class P>
  static int64_t timeout_of(const P& p, int64_t current) {
    if constexpr (IsAfter<P>::value) {
      return p.ms;
    } else {
      return current;
    }
  }

  template <size_t I>
  int match_from(Envelope* e) {
    if constexpr (I == sizeof...(Ps)) {
      return -1;
    } else {
      using P = std::tuple_element_t<I, std::tuple<Ps...>>;
      if constexpr (IsMessagePattern<P>::value) {
        if (std::get<I>(patterns_).matches(e)) return static_cast<int>(I);
      }
      return match_from<I + 1>(e);
    }
  }
  template <size_t I>
  void invoke_at(int index, Envelope* e) {
    if constexpr (I < sizeof...(Ps)) {
      using P = std::tuple_element_t<I, std::tuple<Ps...>>;
      if constexpr (IsMessagePattern<P>::value) {
        if (index == static_cast<int>(I)) return std::get<I>(patterns_).invoke(e);
      }
      invoke_at<I + 1>(index, e);
    }
  }
  template <size_t I>
  void run_after() {
    if constexpr (I < sizeof...(Ps)) {
      using P = std::tuple_element_t<I, std::tuple<Ps...>>;
      if constexpr (IsAfter<P>::value) {
        std::get<I>(patterns_).f();
      } else {
        run_after<I + 1>();
      }
    }
  }

  std::tuple<Ps...> patterns_;
};

// co_await self.receive<T>(): the first message of type T, moved out.
// With a timeout: std::optional<T>, empty if the timeout fired.
template <class T, bool kWithTimeout>
class ValueReceive final : public ReceiveBase<ValueReceive<T, kWithTimeout>> {
  using Base = ReceiveBase<ValueReceive<T, kWithTimeout>>;

 public:
  using Base::Base;

  int match(Envelope* e) {
    return e->kind == EnvelopeKind::kMessage && e->type == type_id<T>() ? 0 : -1;
  }
  auto await_resume() {
    this->finish();
    if constexpr (kWithTimeout) {
      if (this->timed_out_) return std::optional<T>();
      return std::optional<T>(std::move(payload<T>(this->matched_.get())));
    } else {
      return T(std::move(payload<T>(this->matched_.get())));
    }
  }
};

// co_await self.receive_any(timeout): the first message of any type, or an
// empty optional if none came in time.
// With `with_requests`, calls and casts too, as they arrived (for forward()).
class AnyReceive final : public ReceiveBase<AnyReceive> {
 public:
  AnyReceive(Process* p, int64_t timeout_ms, bool with_requests = false)
      : ReceiveBase(p, timeout_ms), with_requests_(with_requests) {}
  int match(Envelope* e) {
    if (e->kind == EnvelopeKind::kMessage) return 0;
    return with_requests_ && (e->kind == EnvelopeKind::kCall || e->kind == EnvelopeKind::kCast)
               ? 0
               : -1;
  }
  std::optional<Message> await_resume() {
    this->finish();
    if (this->timed_out_) return std::nullopt;
    return Message(this->matched_.release());
  }

 private:
  bool with_requests_;
};

// co_await self.yield(): ends this turn; the process runs again after the
// other runnable processes had theirs.
class YieldAwaiter final : public PendingReceive {
 public:
  explicit YieldAwaiter(Process* p) : p_(p) {}
  bool try_complete() override { return true; }
  int64_t timeout_ms() const override { return -1; }
  bool await_ready() const { return false; }
  void await_suspend(std::coroutine_handle<> h) {
    p_->leaf = h;
    p_->receive = this;
    p_->budget = 0;
  }
  void await_resume() { p_->receive = nullptr; }

 private:
  Process* p_;
};

}  // namespace detail

// A receive clause that fires when no message matched within `timeout`.
// Must be the last argument of receive().
template <class Rep, class Period, class F>
auto after(std::chrono::duration<Rep, Period> timeout, F f) {
  return detail::AfterPattern<F>{detail::to_ms(timeout), std::move(f)};
}

// A receive clause with a guard: matches a message of the handler's parameter
// type only when `guard(message)` is true, as `{tag, X} when X > 0 -> ...`.
template <class G, class F>
auto match(G guard, F handler) {
  return detail::MessagePattern<F, G>{std::move(handler), std::move(guard)};
}

}  // namespace plexus

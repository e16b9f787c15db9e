// The template bodies of Runtime, and RuntimeAccess: the one door from the
// templates of public headers, the runtime's own sources and the distribution
// SPI to the Runtime's private plumbing. Internal; included by runtime.h.
#pragma once

#include <string>
#include <type_traits>
#include <typeinfo>
#include <utility>

#include "plexus/context.h"
#include "plexus/detail/envelope.h"
#include "plexus/detail/process.h"
#include "plexus/message.h"
#include "plexus/pid.h"
#include "plexus/status.h"
#include "plexus/task.h"

namespace plexus::detail {

// The error of sending a value of a type that cannot cross nodes to `to`.
Status not_a_wire_type(Pid to, const std::type_info& type);

struct RuntimeAccess {
  static RuntimeImpl& impl(Runtime& rt) { return *rt.impl_; }
  static const RuntimeImpl& impl(const Runtime& rt) { return *rt.impl_; }
  static void deliver(Runtime& rt, Pid to, Envelope* env, Publish publish = Publish::kNow) {
    rt.deliver(to, env, publish);
  }
  template <class T, class... Args>
  static Status send_envelope(Runtime& rt, Publish publish, Pid to, EnvelopeKind kind, Pid from,
                              Ref ref, Args&&... args) {
    return rt.template send_envelope<T>(publish, to, kind, from, ref, std::forward<Args>(args)...);
  }
  template <class To, class T>
  static Status send_as(Runtime& rt, Publish publish, const To& to, T&& msg) {
    return rt.send_as(publish, to, std::forward<T>(msg));
  }
  static Pid start(Runtime& rt, Process* p) { return rt.start(p); }
  static Process* process(const Context& self) { return self.p_; }
  static Process* allocate_process(Runtime& rt, ProcessKind kind) {
    return rt.allocate_process(kind);
  }
  template <class F, class... Args>
  static Process* make_process(Runtime& rt, F&& body, Args&&... args) {
    return rt.make_process(std::forward<F>(body), std::forward<Args>(args)...);
  }
  template <class S, class... Args>
  static Process* make_server(Runtime& rt, Args&&... args) {
    return rt.template make_server<S>(std::forward<Args>(args)...);
  }
};

// A body that needs its callable kept alive (a lambda with captures, or a
// plain function) runs inside this wrapper coroutine, whose frame owns it.
// The arguments live in this frame and are handed to the body as rvalues (it
// runs once), so move-only arguments work.
template <class F, class... Args>
Task<> run_owned(F f, Context self, Args... args) {
  if constexpr (std::is_invocable_v<F&, Context, Args&&...>) {
    using R = std::invoke_result_t<F&, Context, Args&&...>;
    if constexpr (std::is_void_v<R>) {
      f(self, std::move(args)...);
    } else {
      co_await f(self, std::move(args)...);
    }
  } else {
    using R = std::invoke_result_t<F&, Args&&...>;
    if constexpr (std::is_void_v<R>) {
      f(std::move(args)...);
    } else {
      co_await f(std::move(args)...);
    }
  }
}

template <class F, class... Args>
constexpr bool kIsCoroutineBody = std::is_invocable_r_v<Task<>, F&, Context, Args&&...>;

}  // namespace plexus::detail

namespace plexus {

template <class T, class... Args>
Status Runtime::send_envelope(detail::Publish publish, Pid to, detail::EnvelopeKind kind, Pid from,
                              Ref ref, Args&&... args) {
  if constexpr (!WireMessage<T>) {
    if (to.node != 0) return detail::not_a_wire_type(to, typeid(T));
  }
  detail::Envelope* env = detail::make_envelope<T>(kind, std::forward<Args>(args)...);
  env->from = from;
  env->ref = ref;
  deliver(to, env, publish);
  return Status::OK();
}

template <class T>
Status Runtime::send_as(detail::Publish publish, const std::string& name, T&& msg) {
  Pid to = whereis(name);
  if (!to) return Status(StatusCode::kNotFound, "no process registered as '" + name + "'");
  return send_as(publish, to, std::forward<T>(msg));
}

template <class F, class... Args>
detail::Process* Runtime::make_process(F&& body, Args&&... args) {
  using D = std::decay_t<F>;
  detail::Process* p = allocate_process(detail::ProcessKind::kCoroutine);
  if (!p) return nullptr;
  Context self(p);
  Task<> task;
  if constexpr (std::is_empty_v<D> && detail::kIsCoroutineBody<D, std::decay_t<Args>...>) {
    // A captureless coroutine lambda keeps nothing in its object: call it
    // directly, its frame holds the copied arguments.
    D fn(std::forward<F>(body));
    task = fn(self, std::decay_t<Args>(std::forward<Args>(args))...);
  } else {
    task = detail::run_owned<D, std::decay_t<Args>...>(
        D(std::forward<F>(body)), self, std::decay_t<Args>(std::forward<Args>(args))...);
  }
  p->root = task.release();
  p->leaf = p->root;
  return p;
}

template <class S, class... Args>
detail::Process* Runtime::make_server(Args&&... args) {
  detail::Process* p = allocate_process(detail::ProcessKind::kServer);
  if (!p) return nullptr;
  p->server = new S(std::forward<Args>(args)...);
  return p;
}

}  // namespace plexus

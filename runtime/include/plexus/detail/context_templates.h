// The template bodies of Context (plexus/context.h), which need the whole
// Runtime. Internal; included by runtime.h.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <typeinfo>
#include <utility>

#include "plexus/context.h"
#include "plexus/detail/runtime_access.h"
#include "plexus/message.h"
#include "plexus/receive.h"
#include "plexus/status.h"
#include "plexus/task.h"

namespace plexus {
namespace detail {

// Starts `child` (null: the table was full) linked to and/or monitored by
// `parent` (the running process), both sides set up before it can run.
// Returns its pid (or the null pid).
Pid start_related(Process* parent, Process* child, bool link, Ref monitor_ref);

// The reason a call to oneself exits with: {calling_self,{call,<<"<0.5.1>">>}}.
ExitReason calling_self(Pid self);

// Starts `child` (null: the table was full) with `parent` as its parent,
// linked to it or not, and waits for its InitAck (see Context::start_server).
Task<Result<Pid>> start_and_await_init(Context parent, Process* child, bool link);
// Makes `parent` the parent of a child not yet started.
void set_parent(Process* child, Pid parent);

// Marks `ref` as the call this process waits for (replies with other refs are
// dropped on arrival, as stale), or clears it.
void set_pending_call(Process* p, Ref ref);

// The coroutine behind Context::call. It takes the Context by value: a member
// coroutine would keep `this`, which is often a temporary.
template <class R, class Req>
Task<Result<R>> call_coroutine(Context self, Pid to, Req request,
                               std::chrono::milliseconds timeout) {
  if constexpr (!WireMessage<Req> || !WireMessage<R>) {
    if (to.node != 0) co_return not_a_wire_type(to, WireMessage<Req> ? typeid(R) : typeid(Req));
  }
  if (to == self.self()) self.exit(calling_self(to));
  Ref ref = self.monitor(to);
  set_pending_call(RuntimeAccess::process(self), ref);
  auto* env = make_envelope<Req>(EnvelopeKind::kCall, std::move(request));
  env->ref = ref;
  env->from = self.self();
  RuntimeAccess::deliver(self.runtime(), to, env);

  std::optional<Result<R>> result;
  struct ReplyPattern {
    Ref ref;
    std::optional<Result<R>>* out;
    bool matches(Envelope* e) { return e->kind == EnvelopeKind::kReply && e->ref == ref; }
    void invoke(Envelope* e) {
      if (e->type == type_id<R>()) {
        out->emplace(std::move(payload<R>(e)));
      } else {
        out->emplace(Status(StatusCode::kBadType, "call reply of an unexpected type"));
      }
    }
  };
  co_await self.receive(
      ReplyPattern{ref, &result},
      match([ref](const Down& d) { return d.ref == ref; },
            [&](const Down& d) {
              if (d.reason.kind() == ExitReason::Kind::kNoProc) {
                result.emplace(
                    Status(StatusCode::kNoProc, "call to " + to.to_string() + ": no such process"));
              } else {
                result.emplace(
                    Status(StatusCode::kExited,
                           "call to " + to.to_string() + ": exited with " + d.reason.to_string()));
              }
            }),
      after(timeout, [&] {
        result.emplace(Status(StatusCode::kTimeout, "call to " + to.to_string() + " timed out"));
      }));
  set_pending_call(RuntimeAccess::process(self), Ref{});
  self.demonitor(ref, Flush::kYes);
  co_return std::move(*result);
}

}  // namespace detail

template <class T>
Status Context::send(Pid to, T&& msg) const {
  return detail::RuntimeAccess::send_as(runtime(), detail::Publish::kMayJoinRun, to,
                                        std::forward<T>(msg));
}

template <class T>
Status Context::send(const std::string& name, T&& msg) const {
  return detail::RuntimeAccess::send_as(runtime(), detail::Publish::kMayJoinRun, name,
                                        std::forward<T>(msg));
}

template <class T>
Status Context::reply(const From& from, T&& value) const {
  return detail::RuntimeAccess::send_envelope<std::decay_t<T>>(
      runtime(), detail::Publish::kMayJoinRun, from.pid, detail::EnvelopeKind::kReply, self(),
      from.ref, std::forward<T>(value));
}

template <class T>
Status Context::cast(Pid to, T&& msg) const {
  return detail::RuntimeAccess::send_envelope<std::decay_t<T>>(
      runtime(), detail::Publish::kMayJoinRun, to, detail::EnvelopeKind::kCast, self(), Ref{},
      std::forward<T>(msg));
}

template <class F, class... Args>
Pid Context::spawn(F&& body, Args&&... args) const {
  return runtime().spawn(std::forward<F>(body), std::forward<Args>(args)...);
}

template <class F, class... Args>
Pid Context::spawn_link(F&& body, Args&&... args) const {
  return detail::start_related(p_,
                               detail::RuntimeAccess::make_process(runtime(), std::forward<F>(body),
                                                                   std::forward<Args>(args)...),
                               true, Ref{});
}

template <class F, class... Args>
std::pair<Pid, Ref> Context::spawn_monitor(F&& body, Args&&... args) const {
  Ref ref = runtime().make_ref();
  Pid pid =
      detail::start_related(p_,
                            detail::RuntimeAccess::make_process(runtime(), std::forward<F>(body),
                                                                std::forward<Args>(args)...),
                            false, ref);
  if (!pid) return {};
  return {pid, ref};
}

template <class S, class... Args>
Pid Context::spawn_server_link(Args&&... args) const {
  detail::Process* child =
      detail::RuntimeAccess::make_server<S>(runtime(), std::forward<Args>(args)...);
  if (child) detail::set_parent(child, self());
  return detail::start_related(p_, child, true, Ref{});
}

template <class S, class... Args>
Task<Result<Pid>> Context::start_server_link(Args... args) const {
  return detail::start_and_await_init(
      *this, detail::RuntimeAccess::make_server<S>(runtime(), std::move(args)...), true);
}

template <class S, class... Args>
Task<Result<Pid>> Context::start_server(Args... args) const {
  return detail::start_and_await_init(
      *this, detail::RuntimeAccess::make_server<S>(runtime(), std::move(args)...), false);
}

template <class R, class Req>
Task<Result<R>> Context::call(Pid to, Req request, std::chrono::milliseconds timeout) const {
  return detail::call_coroutine<R>(*this, to, std::move(request), timeout);
}

}  // namespace plexus

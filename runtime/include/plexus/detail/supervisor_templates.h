// The template bodies of supervisor.h. Internal; included by it.
#pragma once

#include <type_traits>
#include <utility>

#include "plexus/runtime.h"
#include "plexus/supervisor.h"

namespace plexus {
namespace detail {

inline Task<Result<Pid>> started_as(Result<Pid> r) { co_return r; }
inline Task<Result<Pid>> started_as(Pid pid) {
  if (pid) co_return pid;
  co_return Status(StatusCode::kExited, "the start function returned no process");
}

}  // namespace detail

template <class F>
requires std::is_invocable_v<F&, Context> ChildStart::ChildStart(F f) {
  using R = std::invoke_result_t<F&, Context>;
  static_assert(std::is_same_v<R, Pid> || std::is_same_v<R, Result<Pid>> ||
                    std::is_same_v<R, Task<Result<Pid>>>,
                "a child's start returns a Pid, a Result<Pid> or a Task<Result<Pid>>");
  if constexpr (std::is_same_v<R, Task<Result<Pid>>>) {
    fn_ = std::move(f);
  } else {
    fn_ = [f = std::move(f)](Context sup) mutable { return detail::started_as(f(sup)); };
  }
}

template <class S, class... Args>
ChildStart server_child(Args... args) {
  return ChildStart([args...](Context sup) { return sup.start_server_link<S>(args...); });
}

}  // namespace plexus

// Future: the result of a hub call, awaited from any thread or process.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <type_traits>
#include <utility>
#include <vector>

#include "plexus/context.h"
#include "plexus/pid.h"
#include "plexus/runtime.h"
#include "plexus/status.h"
#include "plexus/task.h"

namespace plexus::hub {

namespace detail {
// What a process awaiting a Future receives when it is ready.
struct FutureReady {
  const void* state;
};

// Written once (set) by the hub's server, read by any number of awaiters.
template <class T>
class FutureState {
 public:
  explicit FutureState(Runtime& runtime) : runtime_(runtime) {}

  void set(T value) {
    std::vector<Pid> wake;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (value_) return;
      value_.emplace(std::move(value));
      wake.swap(waiters_);
    }
    cv_.notify_all();
    for (Pid p : wake) (void)runtime_.send(p, FutureReady{this});
  }
  bool ready() const {
    std::lock_guard<std::mutex> lock(mu_);
    return value_.has_value();
  }
  // The value if ready, else (with `waiter` not null) remembers to wake it.
  std::optional<T> get_or_wait(Pid waiter) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!value_ && waiter) waiters_.push_back(waiter);
    return value_;
  }
  std::optional<T> wait_for(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait_for(lock, timeout, [&] { return value_.has_value(); });
    return value_;
  }

 private:
  Runtime& runtime_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::optional<T> value_;
  std::vector<Pid> waiters_;
};
}  // namespace detail

// What await() gives: the result, or kTimeout; a Future<Status> gives the
// Status itself.
template <class T>
using Awaited = std::conditional_t<std::is_same_v<T, Status>, Status, Result<T>>;

// Cheap to copy; every copy sees the same result. A Future made by a call
// that was not awaitable is ready at once.
template <class T>
class Future {
 public:
  explicit Future(std::shared_ptr<detail::FutureState<T>> state) : state_(std::move(state)) {}

  // True once the result is in.
  bool ready() const { return state_->ready(); }
  // Blocks the calling thread (never a process's turn, nor the thread that
  // steps a loopback network) until the result is in: it, or kTimeout.
  Awaited<T> await(std::chrono::milliseconds timeout) const {
    std::optional<T> v = state_->wait_for(timeout);
    if (!v) return Status(StatusCode::kTimeout, "the hub call did not finish in time");
    return std::move(*v);
  }
  // From a process: `co_await future.await(self, timeout)`.
  Task<Awaited<T>> await(Context self, std::chrono::milliseconds timeout) const {
    auto state = state_;
    std::optional<T> v = state->get_or_wait(self.self());
    if (!v) {
      co_await self.receive(
          match([&](const detail::FutureReady& r) { return r.state == state.get(); },
                [](detail::FutureReady&) {}),
          after(timeout, [] {}));
      v = state->get_or_wait(Pid{});
    }
    if (!v) co_return Status(StatusCode::kTimeout, "the hub call did not finish in time");
    co_return std::move(*v);
  }

 private:
  std::shared_ptr<detail::FutureState<T>> state_;
};

}  // namespace plexus::hub

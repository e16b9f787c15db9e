// The Dispatcher: throttled delivery of zen Downs.
#pragma once

#include <cstddef>
#include <deque>
#include <vector>

#include "state.h"

namespace plexus::zen::detail {

// The queue of Downs that are due, owned by the Local process. Every
// demand_interval the Local asks it to deliver demand_amount of them: a
// Down is sent only if its monitor is still in the references table, and
// its row is removed in the same step (see References::take_and_deliver),
// so a demonitor racing the delivery has exactly one outcome. Stale entries
// (demonitored after they were queued) do not count against the demand: it
// tops up from the queue until `amount` Downs were sent or the queue is
// empty, as ZenMonitor's Dispatcher asks its producer for the unfulfilled
// demand.
class Dispatcher {
 public:
  explicit Dispatcher(State& state) : state_(state) {}

  void enqueue(std::vector<Dispatch>&& downs);
  // Sends up to `amount` Downs; returns how many were sent.
  size_t deliver(size_t amount);
  size_t queued() const { return queue_.size(); }

 private:
  State& state_;
  std::deque<Dispatch> queue_;
};

}  // namespace plexus::zen::detail

#include "local.h"

#include <algorithm>
#include <chrono>

#include "plexus/runtime.h"

namespace plexus::zen::detail {

Status Local::init() {
  next_tick_ms_ = self().runtime().now_ms();
  schedule_tick();
  return Status::OK();
}

size_t Local::slices() const {
  size_t amount = state_->demand_amount.load(std::memory_order_relaxed);
  auto interval = static_cast<size_t>(state_->demand_interval_ms.load(std::memory_order_relaxed));
  return std::clamp<size_t>((amount + kSliceMax - 1) / kSliceMax, 1, interval);
}

void Local::schedule_tick() {
  int64_t interval = state_->demand_interval_ms.load(std::memory_order_relaxed);
  // Ticks keep to a fixed schedule (a slow turn does not push every later
  // tick back), but one that fell behind by a whole interval starts afresh
  // instead of catching up in a burst.
  int64_t now = self().runtime().now_ms();
  next_tick_ms_ += interval / static_cast<int64_t>(slices());
  if (next_tick_ms_ < now - interval) next_tick_ms_ = now;
  int64_t delay = std::max<int64_t>(next_tick_ms_ - now, 1);
  self().runtime().send_after(self().self(), std::chrono::milliseconds(delay), DemandTick{});
}

void Local::handle_info(Message& msg) {
  if (auto* enqueue = msg.get_if<EnqueueDowns>()) {
    dispatcher_.enqueue(std::move(enqueue->downs));
  } else if (msg.is<DemandTick>()) {
    size_t n = slices();
    size_t amount = state_->demand_amount.load(std::memory_order_relaxed);
    dispatcher_.deliver((amount + n - 1) / n);
    set(state_->counters.local_message_queue_len, self().message_queue_len());
    schedule_tick();
  } else if (auto* m = msg.get_if<MonitorSubscriber>()) {
    // monitor() asks once per subscriber, so this is its first request.
    subscribers_.emplace(self().monitor(m->subscriber), m->subscriber);
  } else if (auto* down = msg.get_if<plexus::Down>()) {
    auto it = subscribers_.find(down->ref);
    if (it == subscribers_.end()) return;
    Pid subscriber = it->second;
    subscribers_.erase(it);
    subscriber_down(subscriber);
  } else {
    Server::handle_info(msg);
  }
}

void Local::subscriber_down(Pid subscriber) {
  for (const auto& [ref, target] : state_->references.take_all(subscriber)) {
    (void)self().send(state_->connector_for(target.node), ConnectorDemonitor{target, ref});
  }
}

}  // namespace plexus::zen::detail

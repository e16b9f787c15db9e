#include "batcher.h"

#include <algorithm>
#include <vector>

#include "plexus/node/exit_reason_proto.h"
#include "plexus/runtime.h"
#include "plexus/zen.pb.h"

namespace plexus::zen::detail {

Status Batcher::init() {
  subscriber_monitor_ = self().monitor(subscriber_);
  self().runtime().send_after(self().self(), state_->options.batcher_sweep_interval, Sweep{});
  return Status::OK();
}

void Batcher::handle_info(Message& msg) {
  if (auto* death = msg.get_if<Death>()) {
    batch_.push_back(std::move(*death));
    add(state_->counters.batcher_enqueue);
  } else if (msg.is<Sweep>()) {
    sweep();
    self().runtime().send_after(self().self(), state_->options.batcher_sweep_interval, Sweep{});
  } else if (auto* down = msg.get_if<plexus::Down>()) {
    if (down->ref != subscriber_monitor_) return;
    (void)self().send(proxy_, SubscriberGone{subscriber_});
    stop();
  } else {
    Server::handle_info(msg);
  }
}

void Batcher::sweep() {
  if (batch_.empty()) return;
  size_t n = std::min(batch_.size(), state_->options.batcher_chunk_size);
  Dead out;
  // Deaths in a batch mostly share a reason (a node's processes killed
  // together): each distinct one goes once. Compared against the few seen.
  constexpr size_t kDistinctScanned = 16;
  std::vector<const ExitReason*> distinct;
  for (size_t i = 0; i < n; ++i) {
    const Death& d = batch_[i];
    out.add_index(d.index);
    out.add_serial(d.serial);
    size_t r = 0;
    size_t scan = std::min(distinct.size(), kDistinctScanned);
    while (r < scan && !(*distinct[distinct.size() - 1 - r] == d.reason)) ++r;
    if (r < scan) {
      out.add_reason(static_cast<uint32_t>(distinct.size() - 1 - r));
    } else {
      out.add_reason(static_cast<uint32_t>(distinct.size()));
      distinct.push_back(&d.reason);
      to_proto(d.reason, out.add_reasons());
    }
  }
  (void)self().send(subscriber_, std::move(out));
  batch_.erase(batch_.begin(), batch_.begin() + static_cast<std::ptrdiff_t>(n));
  add(state_->counters.batcher_sweep, n);
}

}  // namespace plexus::zen::detail

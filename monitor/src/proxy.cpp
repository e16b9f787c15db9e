#include "proxy.h"

#include <algorithm>

#include "batcher.h"
#include "plexus/runtime.h"
#include "plexus/zen/truncate.h"

namespace plexus::zen::detail {

namespace {

uint64_t key_of(Pid pid) { return uint64_t{pid.index} << 32 | pid.serial; }

}  // namespace

Status Proxy::init() {
  self().runtime().send_after(self().self(), state_->options.batcher_sweep_interval, Sweep{});
  return Status::OK();
}

void Proxy::handle_info(Message& msg) {
  if (auto* in = msg.get_if<Instructions>()) {
    apply(*in);
  } else if (auto* down = msg.get_if<plexus::Down>()) {
    died(*down);
  } else if (auto* ping = msg.get_if<Ping>()) {
    answer(*ping);
  } else if (auto* gone = msg.get_if<SubscriberGone>()) {
    forget(gone->subscriber);
  } else if (msg.is<Sweep>()) {
    set(state_->counters.proxy_message_queue_len, self().message_queue_len());
    self().runtime().send_after(self().self(), state_->options.batcher_sweep_interval, Sweep{});
  } else {
    Server::handle_info(msg);
  }
}

void Proxy::answer(const Ping& ping) {
  Result<Pid> connector = state_->node.from_proto(ping.connector());
  if (!connector.ok() || !*connector) {
    self().runtime().log(LogLevel::kWarning, "zen proxy: a ping with a bad connector pid");
    return;
  }
  Pong pong;
  state_->node.to_proto(self().self(), pong.mutable_proxy());
  (void)self().send(*connector, std::move(pong));
}

void Proxy::apply(const Instructions& in) {
  Result<Pid> connector = state_->node.from_proto(in.subscriber());
  if (!connector.ok() || !*connector || in.index_size() != in.serial_size()) {
    self().runtime().log(LogLevel::kWarning, "zen proxy: dropped malformed instructions");
    return;
  }
  uint32_t slot = slot_for(*connector);
  int i = 0;
  bool subscribing = true;
  for (uint32_t run : in.runs()) {
    for (uint32_t k = 0; k < run && i < in.index_size(); ++k, ++i) {
      Pid target{0, in.index(i), in.serial(i)};
      if (subscribing) {
        subscribe(target, slot);
      } else {
        unsubscribe(target, slot);
      }
    }
    subscribing = !subscribing;
  }
  set(state_->counters.proxy_subscribers_size, rows_);
}

void Proxy::subscribe(Pid target, uint32_t subscriber) {
  auto [it, fresh] = targets_.try_emplace(key_of(target));
  Target& t = it->second;
  // A dead or unknown target answers at once with a noproc Down.
  if (fresh) t.monitor = self().monitor(target);
  if (t.first == subscriber || std::find(t.more.begin(), t.more.end(), subscriber) != t.more.end())
    return;
  if (t.first == kNone) {
    t.first = subscriber;
  } else {
    t.more.push_back(subscriber);
  }
  ++rows_;
}

void Proxy::unsubscribe(Pid target, uint32_t subscriber) {
  auto it = targets_.find(key_of(target));
  if (it == targets_.end() || !remove(it->second, subscriber)) return;
  --rows_;
  drop_if_unwatched(it);
}

bool Proxy::remove(Target& t, uint32_t subscriber) {
  if (t.first == subscriber) {
    if (t.more.empty()) {
      t.first = kNone;
    } else {
      t.first = t.more.back();
      t.more.pop_back();
    }
    return true;
  }
  auto it = std::find(t.more.begin(), t.more.end(), subscriber);
  if (it == t.more.end()) return false;
  *it = t.more.back();
  t.more.pop_back();
  return true;
}

void Proxy::drop_if_unwatched(std::unordered_map<uint64_t, Target>::iterator it) {
  if (!empty(it->second)) return;
  self().demonitor(it->second.monitor);  // a Down already queued finds no target
  targets_.erase(it);
}

void Proxy::died(const plexus::Down& down) {
  auto it = targets_.find(key_of(down.pid));
  if (it == targets_.end() || it->second.monitor != down.ref) return;
  Target t = std::move(it->second);
  targets_.erase(it);
  // Once per death, whatever the number of subscribers.
  ExitReason reason = truncate(down.reason, state_->truncate_limits());
  auto send = [&](uint32_t slot) {
    (void)self().send(subscribers_[slot].batcher, Death{down.pid.index, down.pid.serial, reason});
    --rows_;
  };
  if (t.first != kNone) send(t.first);
  for (uint32_t slot : t.more) send(slot);
  set(state_->counters.proxy_subscribers_size, rows_);
}

uint32_t Proxy::slot_for(Pid connector) {
  auto it = slots_.find(connector);
  if (it != slots_.end()) return it->second;
  uint32_t slot;
  if (!free_slots_.empty()) {
    slot = free_slots_.back();
    free_slots_.pop_back();
  } else {
    slot = static_cast<uint32_t>(subscribers_.size());
    subscribers_.emplace_back();
  }
  Pid batcher = self().spawn_server_link<Batcher>(state_, connector, self().self());
  subscribers_[slot] = Subscriber{connector, batcher};
  slots_.emplace(connector, slot);
  return slot;
}

void Proxy::forget(Pid connector) {
  auto s = slots_.find(connector);
  if (s == slots_.end()) return;
  uint32_t slot = s->second;
  slots_.erase(s);
  for (auto it = targets_.begin(); it != targets_.end();) {
    auto next = std::next(it);
    if (remove(it->second, slot)) {
      --rows_;
      drop_if_unwatched(it);
    }
    it = next;
  }
  subscribers_[slot] = Subscriber{};
  free_slots_.push_back(slot);
  set(state_->counters.proxy_subscribers_size, rows_);
}

}  // namespace plexus::zen::detail

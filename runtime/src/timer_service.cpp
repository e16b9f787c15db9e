#include "timer_service.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace plexus::detail {

TimerService::TimerService(bool virtual_time, Deliver deliver)
    : virtual_(virtual_time), deliver_(std::move(deliver)) {}

TimerService::~TimerService() { stop(); }

void TimerService::start() {
  if (!virtual_) thread_ = std::thread([this] { run(); });
}

void TimerService::stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  for (TimerWheel::Node* node : wheel_.take_all()) {
    delete node->envelope;
    destroy(node);
  }
  by_id_.clear();
  send_afters_.clear();
}

void TimerService::destroy(TimerWheel::Node* node) {
  delete node->name;
  delete node;
}

void TimerService::forget(TimerWheel::Node* node) {
  by_id_.erase(node->id);
  if (!node->owned_by_target) return;
  auto it = send_afters_.find(node->target);
  if (it == send_afters_.end()) return;
  it->second.erase(node->id);
  if (it->second.empty()) send_afters_.erase(it);
}

int64_t TimerService::real_now_us() const {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               epoch_)
      .count();
}

int64_t TimerService::now_ms() const {
  if (virtual_) {
    std::lock_guard<std::mutex> lock(mu_);
    return virtual_now_ms_;
  }
  return real_now_us() / 1000;
}

uint64_t TimerService::add(int64_t delay_ms, Pid target, Envelope* env, Owner owner) {
  auto* node = new TimerWheel::Node;
  node->target = target;
  node->envelope = env;
  node->owned_by_target = owner == Owner::kTarget;
  return insert(delay_ms, node);
}

uint64_t TimerService::add_named(int64_t delay_ms, std::string name, Envelope* env) {
  auto* node = new TimerWheel::Node;
  node->name = new std::string(std::move(name));
  node->envelope = env;
  return insert(delay_ms, node);
}

uint64_t TimerService::insert(int64_t delay_ms, TimerWheel::Node* node) {
  bool wake = false;
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      delete node->envelope;
      destroy(node);
      return 0;
    }
    // Round up: the timer fires when at least `delay_ms` have passed.
    int64_t expiry =
        virtual_ ? virtual_now_ms_ + delay_ms : (real_now_us() + delay_ms * 1000 + 999) / 1000;
    node->expiry = expiry;
    node->id = id = next_id_++;
    wheel_.insert(node);
    by_id_.emplace(id, node);
    if (node->owned_by_target) send_afters_[node->target].insert(id);
    if (node->expiry < sleeping_until_) {
      sleeping_until_ = node->expiry;
      wake = true;
    }
  }
  if (wake && !virtual_) cv_.notify_one();
  return id;
}

TimerService::Pending TimerService::pending(const TimerWheel::Node& node) const {
  int64_t now_us = virtual_ ? virtual_now_ms_ * 1000 : real_now_us();
  return Pending{std::max<int64_t>(0, (node.expiry * 1000 - now_us) / 1000), node.target};
}

std::optional<TimerService::Pending> TimerService::cancel(uint64_t id) {
  TimerWheel::Node* node;
  Pending left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    node = it->second;
    forget(node);
    wheel_.remove(node);
    left = pending(*node);
  }
  delete node->envelope;
  destroy(node);
  return left;
}

std::optional<TimerService::Pending> TimerService::read(uint64_t id) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_id_.find(id);
  if (it == by_id_.end()) return std::nullopt;
  return pending(*it->second);
}

void TimerService::cancel_all_of(Pid target) {
  std::vector<TimerWheel::Node*> gone;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto ids = send_afters_.find(target);
    if (ids == send_afters_.end()) return;
    for (uint64_t id : ids->second) {
      auto node = by_id_.find(id);
      if (node == by_id_.end()) continue;
      gone.push_back(node->second);
      by_id_.erase(node);
      wheel_.remove(gone.back());
    }
    send_afters_.erase(ids);
  }
  for (TimerWheel::Node* node : gone) {
    delete node->envelope;
    destroy(node);
  }
}

void TimerService::fire(std::vector<TimerWheel::Node*>& expired) {
  for (TimerWheel::Node* node : expired) {
    deliver_(node->target, node->name, node->envelope);
    destroy(node);
  }
  expired.clear();
}

void TimerService::run() {
  std::vector<TimerWheel::Node*> expired;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wheel_.advance(real_now_us() / 1000, expired);
    if (!expired.empty()) {
      for (TimerWheel::Node* node : expired) forget(node);
      lock.unlock();
      fire(expired);
      lock.lock();
      continue;
    }
    std::optional<int64_t> next = wheel_.next_event();
    sleeping_until_ = next ? *next : INT64_MAX;
    if (next) {
      cv_.wait_until(lock, epoch_ + std::chrono::milliseconds(*next));
    } else {
      cv_.wait(lock);
    }
  }
}

void TimerService::advance_to(int64_t ms) {
  std::vector<TimerWheel::Node*> expired;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (ms > virtual_now_ms_) virtual_now_ms_ = ms;
    wheel_.advance(virtual_now_ms_, expired);
    for (TimerWheel::Node* node : expired) forget(node);
  }
  fire(expired);
}

size_t TimerService::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wheel_.size();
}

std::optional<int64_t> TimerService::next_deadline() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wheel_.next_event();
}

}  // namespace plexus::detail

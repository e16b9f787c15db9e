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
    delete node;
  }
  by_id_.clear();
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

uint64_t TimerService::add(int64_t delay_ms, Pid target, Envelope* env) {
  auto* node = new TimerWheel::Node;
  node->target = target;
  node->envelope = env;
  bool wake = false;
  uint64_t id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      delete env;
      delete node;
      return 0;
    }
    // Round up: the timer fires when at least `delay_ms` have passed.
    int64_t expiry =
        virtual_ ? virtual_now_ms_ + delay_ms : (real_now_us() + delay_ms * 1000 + 999) / 1000;
    node->expiry = expiry;
    node->id = id = next_id_++;
    wheel_.insert(node);
    by_id_.emplace(id, node);
    if (node->expiry < sleeping_until_) {
      sleeping_until_ = node->expiry;
      wake = true;
    }
  }
  if (wake && !virtual_) cv_.notify_one();
  return id;
}

std::optional<int64_t> TimerService::cancel(uint64_t id) {
  Envelope* env = nullptr;
  int64_t left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_id_.find(id);
    if (it == by_id_.end()) return std::nullopt;
    TimerWheel::Node* node = it->second;
    by_id_.erase(it);
    wheel_.remove(node);
    // Whole milliseconds left, rounded down: never more than was asked for.
    int64_t now_us = virtual_ ? virtual_now_ms_ * 1000 : real_now_us();
    left = std::max<int64_t>(0, (node->expiry * 1000 - now_us) / 1000);
    env = node->envelope;
    delete node;
  }
  delete env;
  return left;
}

void TimerService::fire(std::vector<TimerWheel::Node*>& expired) {
  for (TimerWheel::Node* node : expired) {
    deliver_(node->target, node->envelope);
    delete node;
  }
  expired.clear();
}

void TimerService::run() {
  std::vector<TimerWheel::Node*> expired;
  std::unique_lock<std::mutex> lock(mu_);
  while (!stopping_) {
    wheel_.advance(real_now_us() / 1000, expired);
    if (!expired.empty()) {
      for (TimerWheel::Node* node : expired) by_id_.erase(node->id);
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
    for (TimerWheel::Node* node : expired) by_id_.erase(node->id);
  }
  fire(expired);
}

std::optional<int64_t> TimerService::next_deadline() const {
  std::lock_guard<std::mutex> lock(mu_);
  return wheel_.next_event();
}

}  // namespace plexus::detail

// Timers of one runtime: send_after, receive and idle timeouts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "timer_wheel.h"

namespace plexus::detail {

// A timing wheel behind a mutex (arm and cancel are O(1)), and either a
// thread that sleeps until the next expiry (real time) or a virtual clock
// that moves only when told to (deterministic runtimes). An expired timer's
// envelope is handed to `deliver` outside the lock.
class TimerService {
 public:
  using Deliver = std::function<void(Pid, Envelope*)>;

  TimerService(bool virtual_time, Deliver deliver);
  ~TimerService();

  void start();  // real time: starts the timer thread
  void stop();   // joins it and drops every pending timer

  // Arms a timer delivering `env` to `target` after `delay_ms`; returns its id.
  uint64_t add(int64_t delay_ms, Pid target, Envelope* env);
  // Disarms; the time it had left, or nothing if it fired or is unknown.
  std::optional<int64_t> cancel(uint64_t id);

  int64_t now_ms() const;

  // Virtual time only.
  void advance_to(int64_t ms);
  std::optional<int64_t> next_deadline() const;

 private:
  void run();
  void fire(std::vector<TimerWheel::Node*>& expired);
  int64_t real_now_us() const;

  const bool virtual_;
  Deliver deliver_;
  const std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  int64_t virtual_now_ms_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  TimerWheel wheel_;
  std::unordered_map<uint64_t, TimerWheel::Node*> by_id_;
  uint64_t next_id_ = 1;
  int64_t sleeping_until_ = INT64_MAX;  // the tick the thread waits for
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace plexus::detail

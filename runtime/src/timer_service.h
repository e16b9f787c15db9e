// Timers of one runtime: send_after, receive and idle timeouts.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "timer_wheel.h"

namespace plexus::detail {

// A timing wheel behind a mutex (arm and cancel are O(1)), and either a
// thread that sleeps until the next expiry (real time) or a virtual clock
// that moves only when told to (deterministic runtimes). An expired timer's
// envelope is handed to `deliver` outside the lock. Thread-safe.
class TimerService {
 public:
  // Delivers an expired timer's envelope to `target`, or to the process
  // registered as `*name` if there is a name.
  using Deliver = std::function<void(Pid target, const std::string* name, Envelope*)>;

  TimerService(bool virtual_time, Deliver deliver);
  ~TimerService();

  void start();  // real time: starts the timer thread
  void stop();   // joins it and drops every pending timer

  // What send_after arms, as opposed to a receive timeout.
  enum class Owner { kTarget, kSelf };
  // Arms a timer delivering `env` to `target` after `delay_ms`; returns its
  // id. kTarget: a send_after, found by cancel_all_of(target).
  uint64_t add(int64_t delay_ms, Pid target, Envelope* env, Owner owner = Owner::kSelf);
  // Arms a timer delivering `env` to the process registered as `name`.
  uint64_t add_named(int64_t delay_ms, std::string name, Envelope* env);

  // A pending timer, as cancel and read see it.
  struct Pending {
    int64_t left_ms;  // whole milliseconds, rounded down
    Pid target;       // null for a name
  };
  // Disarms; nothing if it fired or is unknown.
  std::optional<Pending> cancel(uint64_t id);
  // The same without disarming it.
  std::optional<Pending> read(uint64_t id) const;
  // Disarms every send_after timer whose target is `target` (it exited).
  void cancel_all_of(Pid target);

  int64_t now_ms() const;

  // Timers armed and not yet fired or disarmed.
  size_t pending() const;

  // Virtual time only.
  void advance_to(int64_t ms);
  std::optional<int64_t> next_deadline() const;

 private:
  void run();
  void fire(std::vector<TimerWheel::Node*>& expired);
  int64_t real_now_us() const;
  uint64_t insert(int64_t delay_ms, TimerWheel::Node* node);
  // Forgets `node` in the indexes (it fired or was disarmed); mu_ held.
  void forget(TimerWheel::Node* node);
  Pending pending(const TimerWheel::Node& node) const;
  static void destroy(TimerWheel::Node* node);

  const bool virtual_;
  Deliver deliver_;
  const std::chrono::steady_clock::time_point epoch_ = std::chrono::steady_clock::now();
  int64_t virtual_now_ms_ = 0;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  TimerWheel wheel_;
  std::unordered_map<uint64_t, TimerWheel::Node*> by_id_;
  // target -> ids of its send_after timers (Owner::kTarget)
  std::unordered_map<Pid, std::unordered_set<uint64_t>> send_afters_;
  uint64_t next_id_ = 1;
  int64_t sleeping_until_ = INT64_MAX;  // the tick the thread waits for
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace plexus::detail

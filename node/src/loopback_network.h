// LoopbackNetworkImpl: the work queue, the virtual clock and the directory
// of nodes behind a LoopbackNetwork (plexus/node/loopback.h).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "plexus/node/loopback.h"
#include "plexus/status.h"

namespace plexus::detail {

class LoopbackBackend;
class LoopbackConnection;

// Single-threaded (see LoopbackNetwork). Work is owned by the node it runs
// for: a node that leaves takes its pending work with it.
class LoopbackNetworkImpl {
 public:
  // ---- Nodes
  // Registers `node` under `name` ("name@host:port"); port 0 gets a port of
  // its own. Returns the name registered.
  Result<std::string> join(LoopbackBackend* node, const std::string& name);
  // Drops the node's pending work and its name; its runtime is no longer stepped.
  void leave(LoopbackBackend* node);
  LoopbackBackend* find(const std::string& name) const;

  // ---- Work
  void post(LoopbackBackend* owner, std::function<void()> fn);
  void post_after(LoopbackBackend* owner, int64_t delay_ms, std::function<void()> fn);
  int64_t now_ms() const { return now_ms_; }
  // True while the network runs work or a turn (the loop, for every node).
  bool stepping() const { return stepping_ > 0; }

  size_t run_until_idle(size_t max_steps);
  void advance(int64_t by_ms);
  bool run_until(const std::function<bool()>& done, int64_t timeout_ms);
  // One round for a caller that waits (Backend::wait): runs what can run, or
  // else moves time to the next timer due by `deadline_ms`. False if neither
  // was possible: nothing will ever happen before the deadline.
  bool step_for_wait(int64_t deadline_ms);

  // ---- Connections and faults
  // A pair of connections, one per side, that cut() may close.
  void track(const std::string& a, const std::string& b, std::weak_ptr<LoopbackConnection> at_a,
             std::weak_ptr<LoopbackConnection> at_b);
  bool is_cut(const std::string& a, const std::string& b) const;
  void cut(const std::string& a, const std::string& b);
  void heal(const std::string& a, const std::string& b);
  // One-way loss (LoopbackNetwork::mute): what a muted side writes waits
  // in its connection, which the network keeps until unmute releases it.
  bool is_muted(const std::string& from, const std::string& to) const {
    return !mutes_.empty() && mutes_.count({from, to}) > 0;  // no pair made per write
  }
  void mute(const std::string& from, const std::string& to) { mutes_.insert({from, to}); }
  void unmute(const std::string& from, const std::string& to);
  void hold(std::shared_ptr<LoopbackConnection> writer);

  void set_faults(const LoopbackFaults& faults);
  bool delays() const { return faults_.max_delay.count() > 0; }
  // What becomes of one write of `bytes`: nothing (lost, and the connection
  // with it: `reset` is set), or what arrives (messages maybe twice) and its
  // delay.
  struct Delivery {
    bool reset = false;
    std::string bytes;
    int64_t delay_ms = 0;
  };
  Delivery deliver(const std::string& bytes);

  // The creation of the next node started on this network: the same for
  // the same order of starts, so that a run replays exactly (a creation
  // orders concurrent versions in the hub, through its decider's stamp).
  uint64_t next_creation();

 private:
  struct Task {
    LoopbackBackend* owner;
    std::function<void()> fn;
  };
  struct Link {
    std::string a, b;
    std::weak_ptr<LoopbackConnection> at_a, at_b;
  };
  static std::pair<std::string, std::string> ordered(const std::string& a, const std::string& b) {
    return a < b ? std::pair{a, b} : std::pair{b, a};
  }
  // The earliest timer, the transport's or a runtime's, in network time.
  std::optional<int64_t> next_event() const;
  // Moves the clock (and every runtime's) to `t`; due timers become work.
  void move_to(int64_t t);

  std::vector<LoopbackBackend*> nodes_;  // in the order they joined
  std::map<std::string, LoopbackBackend*> by_name_;
  uint16_t next_port_ = 1;
  std::deque<Task> tasks_;
  std::multimap<int64_t, Task> timers_;  // by due time; equal times in posting order
  int64_t now_ms_ = 0;
  int stepping_ = 0;
  std::vector<Link> links_;
  std::set<std::pair<std::string, std::string>> cuts_;
  std::set<std::pair<std::string, std::string>> mutes_;       // (from, to)
  std::vector<std::shared_ptr<LoopbackConnection>> holding_;  // in the order they held
  LoopbackFaults faults_;
  uint64_t random_state_ = 1;
  uint64_t creations_ = 0;
  // A uniform draw in [0, 1), from the faults' seed (splitmix64).
  double draw();
};

}  // namespace plexus::detail

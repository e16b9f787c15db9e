// The Local's authoritative table: (subscriber, ref) -> target.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plexus/pid.h"

namespace plexus::zen::detail {

// Written by the subscribing processes on their own threads (monitor,
// demonitor) and by the zen monitor's Local and Dispatcher, so it is sharded
// by subscriber, a mutex per shard. All of one subscriber's rows are in one
// shard, so removing a dead subscriber's rows is one map erase.
class References {
 public:
  // Adds a row. True if this is the subscriber's first row ever: the caller
  // then asks the Local to monitor the subscriber (once).
  bool insert(Pid subscriber, Ref ref, Pid target);

  // Removes the row; its target if it was there.
  std::optional<Pid> take(Pid subscriber, Ref ref);

  // Removes the row and, if it was there, calls `deliver(target)` before
  // releasing the shard: a take() that finds no row therefore knows that the
  // delivery (a message sent by `deliver`) already happened, which is what
  // demonitor with flush relies on.
  template <class F>
  bool take_and_deliver(Pid subscriber, Ref ref, F&& deliver) {
    Shard& shard = shard_for(subscriber);
    std::lock_guard<std::mutex> lock(shard.mu);
    std::optional<Pid> target = take_locked(shard, subscriber, ref);
    if (!target) return false;
    deliver(*target);
    return true;
  }

  // Removes every row of `subscriber` and forgets it; the (ref, target)
  // pairs removed.
  std::vector<std::pair<Ref, Pid>> take_all(Pid subscriber);

  // Rows in the table.
  size_t size() const { return size_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kShards = 64;
  struct Shard {
    std::mutex mu;
    // subscriber -> (ref -> target). A subscriber stays here (with no rows)
    // until take_all: its entry records that the Local monitors it.
    std::unordered_map<Pid, std::unordered_map<Ref, Pid>> rows;
  };

  Shard& shard_for(Pid subscriber) { return shards_[std::hash<Pid>{}(subscriber) % kShards]; }
  std::optional<Pid> take_locked(Shard& shard, Pid subscriber, Ref ref);

  std::array<Shard, kShards> shards_;
  std::atomic<size_t> size_{0};
};

}  // namespace plexus::zen::detail

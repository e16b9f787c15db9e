// QuorumKeeper: whether one hub member is in partition mode.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include "plexus/strategies/partition_tolerance.h"

namespace plexus::hub::detail {

// Feeds the partition strategy each change of the members this node keeps
// (those it reaches, less any a non-transitive cut leaves out: what the
// view keeper gets) and keeps the strategy's memory. A burst of changes is
// taken losses first. No I/O, no clock (the time is given); the hub
// server's thread calls every method.
//
//              start, down or resize: no quorum
//   running  ----------------------------------->  partitioned
//            <-----------------------------------
//                  up or resize: quorum
//
// (A loss only enters partition mode and a join only leaves it, as
// ProcessHub's toggle_lock? and toggle_unlock?; a member starts running.)
class QuorumKeeper {
 public:
  enum class Turn { kNone, kEntered, kLeft };

  explicit QuorumKeeper(const strategies::PartitionTolerance& strategy) : strategy_(strategy) {}

  // The hub starts, reaching no other member yet.
  Turn start(int64_t now_ms);
  // The members kept now, this node left out.
  Turn set_kept(const std::set<std::string>& kept, int64_t now_ms);
  // A planned change of the cluster's size (Hub::reset_cluster_size).
  Turn resize(size_t size, int64_t now_ms);

  // True if a view of `members` members has quorum, by the strategy and
  // what it remembers (which this leaves as it is).
  bool view_has_quorum(size_t members, int64_t now_ms) const;

  bool partitioned() const { return partitioned_; }
  // The members kept, this node included.
  size_t reached() const { return kept_.size() + 1; }

 private:
  Turn take(const strategies::MembershipChange& change);

  const strategies::PartitionTolerance& strategy_;
  strategies::QuorumMemory memory_;
  std::set<std::string> kept_;
  bool partitioned_ = false;
};

}  // namespace plexus::hub::detail

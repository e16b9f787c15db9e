// PartitionTolerance: what a hub member does when it is cut off from part
// of its cluster (ProcessHub's PartitionTolerance strategies).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plexus::strategies {

// A change of the hub members one node reaches. `reached` counts them after
// the change, the node itself included (so never 0).
struct MembershipChange {
  enum Kind {
    kStart,   // the hub starts: `reached` is what it reaches now
    kUp,      // `node` is reached
    kDown,    // `node` is no longer reached (it crashed, left or is cut off)
    kResize,  // a planned change of the cluster's size to `size`
  };
  Kind kind = kStart;
  std::string node;
  size_t reached = 1;
  // The hub's clock in milliseconds, for a strategy that counts time: given,
  // never read (strategies have no clock).
  int64_t now_ms = 0;
  size_t size = 0;  // kResize only
};

// What one member remembers of its hub's membership for its strategy; the
// hub keeps it, the strategy reads and writes it.
struct QuorumMemory {
  // MajorityQuorum: the largest cluster seen (or set by a resize).
  size_t max_seen = 0;
  // DynamicQuorum: the members lost within its threshold_time, with when.
  std::vector<std::pair<std::string, int64_t>> down;
};

// Compared by name and parameters when members join, as every strategy.
// Pure: the hub feeds it each change and keeps its memory; what a member
// does in partition mode is the hub's (docs/hub.md, "Partitions").
//
// A member enters partition mode only on kStart, kDown or kResize with
// has_quorum() false, and leaves it only on kUp or kResize with it true,
// as ProcessHub's toggle_lock? and toggle_unlock?.
class PartitionTolerance {
 public:
  virtual ~PartitionTolerance() = default;
  virtual std::string_view name() const = 0;
  virtual std::string parameters() const { return ""; }
  // False if no member ever stops its children for a partition (and so
  // nothing waits for a fence): divergence.
  virtual bool uses_quorum() const { return true; }
  // True if the strategy takes kResize (MajorityQuorum).
  virtual bool resizable() const { return false; }
  // Takes the change into `memory`; true if the member has quorum after it.
  virtual bool has_quorum(const MembershipChange& change, QuorumMemory& memory) const = 0;
};

// Both sides of a partition keep running, and merge on heal (the default).
class Divergence final : public PartitionTolerance {
 public:
  std::string_view name() const override { return "divergence"; }
  bool uses_quorum() const override { return false; }
  bool has_quorum(const MembershipChange&, QuorumMemory&) const override { return true; }
};

// "name(parameters)": what a member compares with its peers'.
std::string describe(const PartitionTolerance& strategy);

}  // namespace plexus::strategies

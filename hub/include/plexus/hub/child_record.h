// ChildRecord: one version of a hub child, as every node's registry keeps it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/detail/indirect.h"
#include "plexus/hub/child_spec.h"
#include "plexus/hub/pid_list.h"

namespace plexus::hub {

// Immutable: a change is a new record with a higher version, so a reader
// that holds one sees it whole. Epochs are issued by the child's segment
// decider only ((view number << 32) | counter); two deciders can issue the
// same epoch only on two sides of a split that both numbered their view
// alike, and the stamp (a hash of the decider) orders those. So two records
// with the same id and version are the same record, and newer_than orders
// any two of one id on every node alike.
//
// A start makes an incarnation of the child, named by the epoch of its
// first version (`origin`); its restarts, moves and failovers are versions
// of that incarnation, and a stop (or its end for good) is the incarnation's
// last: its tombstone. The order is by incarnation first, then a tombstone
// above any live version of its incarnation, then by epoch. So a stop made
// on one side of a split still ends the child after the heal, though the
// other side restarted it meanwhile under higher epochs; only a new start
// (a newer incarnation) brings it back.
struct ChildRecord {
  std::string id;
  uint64_t epoch = 0;
  uint64_t origin = 0;  // the incarnation: the epoch of the start that made it
  uint32_t stamp = 0;
  uint32_t segment : 31 = 0;
  // Stopped: the record stays, with no pids, for the hub's tombstone time,
  // so that no late or duplicated update can bring the child back.
  bool tombstone : 1 = false;
  // Shared by the children one call started with the same spec fields.
  std::shared_ptr<const ChildSpec> spec;
  // Where it runs, the first the primary. Pid::node names the node in this
  // node's table (0: this node).
  PidList pids;
  // The nodes a recording strategy chose (guided, bounded_load); null for
  // consistent hashing, which recomputes them.
  plexus::detail::Indirect<std::vector<std::string>> placement;

  // The spec's tag, or "".
  std::string_view tag() const;
  // True if this version supersedes `other` (of the same id).
  bool newer_than(const ChildRecord& other) const {
    if (origin != other.origin) return origin > other.origin;
    if (tombstone != other.tombstone) return tombstone;
    return epoch != other.epoch ? epoch > other.epoch : stamp > other.stamp;
  }
};

}  // namespace plexus::hub

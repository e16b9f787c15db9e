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
// with the same id and version are the same record, and the higher version
// wins a merge on every node alike.
struct ChildRecord {
  std::string id;
  uint64_t epoch = 0;
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
    return epoch != other.epoch ? epoch > other.epoch : stamp > other.stamp;
  }
};

}  // namespace plexus::hub

// HubConfig: everything a hub starts from, and the part of it its members
// must agree on.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "plexus/hub/child_spec.h"
#include "plexus/status.h"
#include "plexus/strategies/consistent_hashing.h"
#include "plexus/strategies/migration.h"
#include "plexus/strategies/partition_tolerance.h"
#include "plexus/strategies/segments.h"
#include "plexus/strategies/singularity.h"
#include "plexus/strategies/synchronization.h"

namespace plexus::hub {

// The settings of ProcessHub's %ProcessHub{} that have a meaning in Plexus,
// with ProcessHub's defaults (its code's, where its docs differ). Its
// deadlock_recovery_timeout has none: a Plexus hub has no event queue to
// lock (docs/hub.md).
struct HubConfig {
  // The hub's name; the nodes running a hub of this id form its cluster.
  std::string hub_id;
  // Children every member starts when the hub starts (each once in the
  // cluster: a start of an id already running is already_started).
  std::vector<ChildSpec> child_specs;

  std::shared_ptr<const strategies::Distribution> distribution =
      std::make_shared<strategies::ConsistentHashing>();
  std::shared_ptr<const strategies::Redundancy> redundancy =
      std::make_shared<strategies::Singularity>();
  // How a child moves between members: cold swap (stop, then start afresh)
  // or hot swap (its state handed over; plexus/hub/handover.h).
  std::shared_ptr<const strategies::Migration> migration = std::make_shared<strategies::ColdSwap>();
  // What a member cut off from part of the cluster does: divergence (both
  // sides run on and merge on heal) or a quorum strategy, with which the
  // side without quorum stops its children (docs/hub.md, "Partitions").
  std::shared_ptr<const strategies::PartitionTolerance> partition_tolerance =
      std::make_shared<strategies::Divergence>();
  // How a committed record reaches the other members: pubsub (its decider
  // sends it to each) or gossip (a tree of at most `fanout` sends per
  // member, for large clusters; docs/hub.md, "Sync").
  std::shared_ptr<const strategies::Synchronization> synchronization =
      std::make_shared<strategies::PubSub>();
  // How many segments child ids fall into (strategies::Segments).
  uint32_t segments = strategies::Segments::kDefaultCount;

  // How often a member announces itself to nodes that do not list it yet
  // (a safety net: joins are also announced when a node connects).
  std::chrono::milliseconds hubs_discover_interval{10000};
  // How often expired tombstones and caches are purged.
  std::chrono::milliseconds storage_purge_interval{15000};
  // How long a stopped child's tombstone is kept: longer than any partition
  // that should heal without a child stopped on one side coming back from
  // the other (docs/hub.md).
  std::chrono::milliseconds tombstone_ttl{300000};
  // How often a member compares its registry with the next member's
  // (anti-entropy; ProcessHub's pubsub sync_interval).
  std::chrono::milliseconds sync_interval{15000};
  // How long membership must be quiet before a new view is proposed, so a
  // burst of joins or downs makes one view change.
  std::chrono::milliseconds view_debounce{200};
  // How long a cut of a non-transitive partition (hub/src/reachability.h:
  // a member that reaches two sides keeps one) must stand before the hub
  // makes it. Longer than the spread between members noticing that one
  // node is gone (a SIGSTOPped node is noticed by each peer on its own tick,
  // up to a quarter of the nodes' tick_timeout apart: 15 s by default), so a
  // lost node does not look like a partition on the way (as Akka's
  // stable-after, 20 s).
  std::chrono::milliseconds partition_cut_delay{20000};
  // How many messages Hub::send holds on this node for one child while its
  // hot swap is under way; past that it answers kResourceExhausted (the
  // sender's backpressure: try again), never a silent drop.
  size_t handover_buffer = 10000;
  // With a quorum strategy: how long a member in partition mode gives each
  // child to stop (at most its spec's shutdown) before it kills it.
  std::chrono::milliseconds partition_stop_timeout{2000};
  // With a quorum strategy: how long the members wait, after losing one
  // that did not leave on purpose, before they start copies of the children
  // it ran. It must be longer than the most a cut-off member takes to stop
  // them: the spread between the two sides noticing the cut (a quarter of
  // the node's tick_timeout), partition_cut_delay (a non-transitive cut),
  // view_debounce and partition_stop_timeout; Hub::start checks it. So the
  // old and new copies of a child never run at once, unless the cut-off
  // member's process pauses (SIGSTOP, a swap storm) for longer than this.
  std::chrono::milliseconds fence_margin{40000};
  // How long a migration may take before it counts as failed (with hot
  // swap: the handover, after which the child stays where it was).
  std::chrono::milliseconds migr_base_timeout{15000};
  // The distributed supervisor's restart intensity: more than
  // dsup_max_restarts restarts of one child within dsup_max_seconds, and
  // the child is given up (unregistered everywhere).
  int dsup_max_restarts = 100;
  std::chrono::seconds dsup_max_seconds{4};
  // How long the distributed supervisor waits for its children at shutdown.
  std::chrono::milliseconds dsup_shutdown_timeout{60000};

  // Durable children (docs/hub.md, "Durable children"): the directory of
  // this node's store, a RocksDB database of the children it runs (their
  // records, and the state each last saved: plexus/hub/saved_state.h), so
  // that a restart of the whole cluster brings every child back once, with
  // that state. Empty: nothing is kept. Each node has its own; the members
  // of a hub must all keep one or none (it is part of the signature). A
  // missing store is made; a corrupt one is moved aside, logged, and a new
  // one made; one that cannot be made at all fails Hub::start.
  std::string store_path;
  // Every write of the store reaches the disk before the hub goes on, so it
  // survives a power loss too, not only a kill of the process: an fsync per
  // server turn that changes the store.
  bool store_sync = false;
};

// OK, or kInvalidArgument whose message names the first bad setting.
Status validate(const HubConfig& config);
// validate(config), and with a quorum strategy that fence_margin is longer
// than a cut-off member takes to stop its children on a node whose peers
// are down after `tick_timeout` (NodeOptions::tick_timeout).
Status validate(const HubConfig& config, std::chrono::milliseconds tick_timeout);

// What members of one hub must agree on, as text: the segment count and
// each strategy's describe(). A node refuses to join a hub whose signature
// differs from its own, and says both.
std::string signature(const HubConfig& config);

}  // namespace plexus::hub

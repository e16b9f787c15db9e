// HubState: what a hub's API and its server process share.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "child_store.h"
#include "hook_table.h"
#include "plexus/detail/mutex.h"
#include "plexus/hub/future.h"
#include "plexus/hub/hub_config.h"
#include "plexus/hub/results.h"
#include "plexus/node/node.h"
#include "plexus/strategies/distribution.h"
#include "plexus/strategies/view.h"
#include "registry.h"

namespace plexus::hub::detail {

// A set of remote node incarnations (Pid::node, never 0), one atomic slot
// per node-table slot: read from any thread with one load.
class NodeSlots {
 public:
  NodeSlots() : slots_(new std::atomic<uint32_t>[kSlots]) {
    for (size_t i = 0; i < kSlots; ++i) slots_[i].store(0, std::memory_order_relaxed);
  }
  // Pid::node's low 16 bits are its node-table slot (plexus/pid.h).
  void insert(uint32_t node) { slots_[node & (kSlots - 1)].store(node, std::memory_order_release); }
  // Erases `node`, not a newer incarnation that took its slot.
  void erase(uint32_t node) {
    uint32_t expected = node;
    slots_[node & (kSlots - 1)].compare_exchange_strong(expected, 0, std::memory_order_acq_rel);
  }
  bool contains(uint32_t node) const {
    return node != 0 && slots_[node & (kSlots - 1)].load(std::memory_order_acquire) == node;
  }

 private:
  static constexpr size_t kSlots = size_t{1} << 16;
  std::unique_ptr<std::atomic<uint32_t>[]> slots_;
};

// Which node incarnations (Pid::node) are connected hub members now, so
// that no query serves a pid of a node that is gone. Written by the server
// (set_up and set_down) and by the node's down listener (set_down, on the
// transport thread, as the connection is lost: before the server hears of
// it); read by every query: one load per pid.
class LiveNodes {
 public:
  void set_up(uint32_t node) { up_.insert(node); }
  void set_down(uint32_t node) { up_.erase(node); }
  bool serves(Pid pid) const {
    if (partitioned_.load(std::memory_order_relaxed)) return false;
    return pid.node == 0 || up_.contains(pid.node);
  }
  // In partition mode no pid is served: this node's children are stopped,
  // and what it knows of the others' is what the cut left it.
  void set_partitioned(bool on) { partitioned_.store(on, std::memory_order_relaxed); }

 private:
  std::atomic<bool> partitioned_{false};
  NodeSlots up_;
};

// What the hub's metrics count (hub_metrics.cpp). The server counts, with
// relaxed stores; a scrape reads from any thread.
struct HubCounters {
  std::atomic<uint64_t> children_started{0};      // copies started on this node
  std::atomic<uint64_t> children_halted{0};       // copies this node halted on a decider's word
  std::atomic<uint64_t> children_restarted{0};    // restarts by this node's supervisor
  std::atomic<uint64_t> children_ended{0};        // copies that ended for good here
  std::atomic<uint64_t> start_failures{0};        // copies that failed to start here
  std::atomic<uint64_t> migrations{0};            // children moved by this node's decider
  std::atomic<uint64_t> handovers{0};             // copies here that handed their child over
  std::atomic<uint64_t> handovers_called_off{0};  // hot swaps this node's decider called off
  std::atomic<uint64_t> messages_held{0};         // Hub::send messages held through a move
  std::atomic<uint64_t> views{0};                 // views adopted
  std::atomic<uint64_t> sync_rounds{0};           // anti-entropy summaries sent
  std::atomic<uint64_t> records_applied{0};       // registry records taken in
  std::atomic<uint64_t> record_messages_sent{0};  // changes sent (RecordsDelta)
  std::atomic<uint64_t> record_bytes_sent{0};     // ... their protobuf bytes
  std::atomic<uint64_t> gossip_duplicates{0};     // gossiped changes taken twice
  std::atomic<uint64_t> gossip_resends{0};        // sends made again (no ack, or lost)
  std::atomic<uint64_t> local_children{0};        // gauge: copies running here now
  std::atomic<uint64_t> stored_children{0};       // gauge: children in this node's store
  std::atomic<uint64_t> restored_children{0};     // children the store gave back at start
  std::atomic<uint64_t> store_write_errors{0};    // store writes that failed
};

// Written by the server process only (view, refusal, flags); read from any
// thread by the Hub's queries.
struct HubState {
  HubState(Node& node, HubConfig config, strategies::Segments segments);

  Node& node;
  const HubConfig config;
  const std::string signature;    // hub::signature(config)
  const std::string server_name;  // "plexus.hub.<hub_id>"
  const strategies::Member self;  // this node's incarnation
  // The bytes each part of a bulk message aims at (message_parts.h), from
  // the node's frame limit.
  const size_t part_bytes;
  Registry registry;
  LiveNodes live;
  // Members whose moves this node may have missed, until they answer its
  // HoldQuery{every} (hub_server_moves.cpp): Hub::send refuses to send to
  // their copies meanwhile. Written by the server only.
  NodeSlots unheard;
  HookTable hooks;
  // This node's store of durable children (HubConfig::store_path), or
  // null. Set before the server starts; then only the server's thread uses
  // it. What it held when it was opened waits in `restored` until the
  // server takes it in.
  std::unique_ptr<ChildStore> store;
  ChildStore::Contents restored;
  // How many live children each member runs (by the registry's first pids),
  // kept by the server only when the distribution reads loads; read by the
  // decider, on the server's thread.
  strategies::NodeLoads loads;
  Pid server;

  std::atomic<bool> alive{true};
  std::atomic<bool> locked{false};
  // Hub::is_synced: written by the server at the end of each turn.
  std::atomic<bool> synced{false};
  std::atomic<uint64_t> next_call{1};
  HubCounters counters;

  // The name of the node `pid` runs on (this node's for a local pid), valid
  // as long as the node.
  std::string_view node_of(Pid pid) const;
  // The record's first pid whose node is served (LiveNodes), or null: the
  // active copy.
  Pid first_served(const ChildRecord& record) const {
    for (Pid pid : record.pids) {
      if (live.serves(pid)) return pid;
    }
    return Pid{};
  }
  // The record's pids, each with its node's name.
  std::vector<NodePid> node_pids(const ChildRecord& record) const;

  strategies::View view() const;
  void set_view(strategies::View view);
  std::string refusal() const;
  // In partition mode (Hub::is_partitioned): a quorum strategy found this
  // member cut off. Set by the server only; queries stop serving pids.
  bool partitioned() const { return partitioned_.load(std::memory_order_relaxed); }
  void set_partitioned(bool on) {
    partitioned_.store(on, std::memory_order_relaxed);
    live.set_partitioned(on);
  }
  void set_refusal(std::string why);

 private:
  std::atomic<bool> partitioned_{false};
  mutable plexus::detail::SharedMutex mu_;
  strategies::View view_ PLEXUS_GUARDED_BY(mu_);
  std::string refusal_ PLEXUS_GUARDED_BY(mu_);
};

// Logs `text()` at debug level, building the line only if debug lines are
// kept: the protocol's trace, for replaying a failing simulation seed.
template <class F>
void debug(const HubState& state, F&& text) {
  state.node.runtime().log(LogLevel::kDebug,
                           [&] { return "hub " + state.config.hub_id + ": " + text(); });
}

// The hub's server name for `hub_id` on every node.
std::string server_name(const std::string& hub_id);

// ---- What the Hub's API sends its server (local messages, never on the wire).
struct LocalStart {
  uint64_t call;
  std::vector<std::shared_ptr<const ChildSpec>> specs;
  StartOptions options;
  std::shared_ptr<FutureState<StartResult>> future;  // null: not awaited
};

struct LocalStop {
  uint64_t call;
  std::vector<std::string> ids;
  StopOptions options;
  std::shared_ptr<FutureState<StopResult>> future;
};

struct LocalWhich {
  bool global;
  std::chrono::milliseconds timeout;
  std::shared_ptr<FutureState<std::vector<NodeChildren>>> future;
};

struct LocalResize {
  size_t size;
};

struct LocalLeave {
  std::shared_ptr<FutureState<Status>> future;
};

}  // namespace plexus::hub::detail

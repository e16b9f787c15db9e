// What one node's zen monitor components share, and the messages they send
// each other on the node.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "plexus/node/node.h"
#include "plexus/zen/metrics.h"
#include "plexus/zen/options.h"
#include "plexus/zen/zen_monitor.h"
#include "references.h"

namespace plexus::zen::detail {

inline constexpr char kLocalName[] = "plexus.zen.local";
inline constexpr char kProxyName[] = "plexus.zen.proxy";

struct Counters {
  std::atomic<uint64_t> local_monitor{0};
  std::atomic<uint64_t> local_demonitor{0};
  std::atomic<uint64_t> local_enqueue{0};
  std::atomic<uint64_t> local_batch_length{0};
  std::atomic<uint64_t> local_message_queue_len{0};
  std::atomic<uint64_t> connector_enqueue{0};
  std::atomic<uint64_t> connector_sweep{0};
  std::atomic<uint64_t> dispatcher_delivered{0};
  std::atomic<uint64_t> dispatcher_processed{0};
  std::atomic<uint64_t> proxy_message_queue_len{0};
  std::atomic<uint64_t> proxy_subscribers_size{0};
  std::atomic<uint64_t> batcher_enqueue{0};
  std::atomic<uint64_t> batcher_sweep{0};
};

inline void add(std::atomic<uint64_t>& counter, uint64_t n = 1) {
  counter.fetch_add(n, std::memory_order_relaxed);
}
inline void set(std::atomic<uint64_t>& gauge, uint64_t value) {
  gauge.store(value, std::memory_order_relaxed);
}

struct State : std::enable_shared_from_this<State> {
  State(Node& node, Options options);

  // The Connector for the node with index `node_index` in this node's node
  // table (0: this node), started on first use.
  Pid connector_for(uint32_t node_index);
  // What the Connector of `node` (a name) last found.
  void set_compatibility(const std::string& node, Compatibility c);
  Compatibility compatibility(const std::string& node) const;
  // Connectors started so far.
  std::vector<Pid> connectors() const;
  TruncateLimits truncate_limits() const {
    return TruncateLimits{options.max_binary_size, options.truncation_depth};
  }

  Node& node;
  Runtime& runtime;
  const Options options;
  std::atomic<size_t> demand_amount;
  std::atomic<int64_t> demand_interval_ms;
  References references;
  Counters counters;
  Pid local;  // set before any monitor() call
  Pid proxy;

 private:
  // Read on every monitor() and demonitor() by many threads at once, written
  // once per node: readers share it.
  mutable std::shared_mutex mu_;
  std::unordered_map<uint32_t, Pid> connectors_;
  std::unordered_map<std::string, Compatibility> compatibility_;
};

// ---- Messages between the components of one node (never serialized).

// A Down to deliver, queued in the Local for the Dispatcher.
struct Dispatch {
  Pid subscriber;
  Ref ref;
  Pid target;
  ExitReason reason;
};

// Connector -> Local.
struct EnqueueDowns {
  std::vector<Dispatch> downs;
};

// monitor() -> Local: monitor this subscriber, to clean its rows when it dies.
struct MonitorSubscriber {
  Pid subscriber;
};

// monitor() / demonitor() / Local -> Connector.
struct ConnectorMonitor {
  Pid target;
  Ref ref;
  Pid subscriber;
  // For a local target: the Connector's own monitor of it, made by monitor()
  // on the subscriber's thread before it returned (see ZenMonitor::monitor).
  Ref native = {};
};
struct ConnectorDemonitor {
  Pid target;
  Ref ref;
};

// Proxy -> Batcher: one death for the Batcher's subscriber.
struct Death {
  uint32_t index;
  uint32_t serial;
  ExitReason reason;
};

// Batcher -> Proxy: the subscriber is gone; forget its rows.
struct SubscriberGone {
  Pid subscriber;
};

// Timer messages, each to the process that armed it.
struct Sweep {};
struct DemandTick {};
struct PingTimeout {
  uint64_t ping;
};
struct FireMore {};

}  // namespace plexus::zen::detail

// What a zen monitor reports about itself.
#pragma once

#include <cstdint>
#include <string>

#include "plexus/metrics.h"

namespace plexus::zen {

// A snapshot of one node's zen monitor. Counters only grow; gauges are the
// value at the time of the snapshot (queue lengths: at the owner's last
// sweep). The names are ZenMonitor's.
struct Metrics {
  // zen_monitor.local.*
  uint64_t local_monitor = 0;            // counter: monitor() calls
  uint64_t local_demonitor = 0;          // counter: demonitor() calls
  uint64_t local_enqueue = 0;            // counter: Downs queued for the dispatcher
  uint64_t local_batch_length = 0;       // gauge: Downs queued, not yet delivered
  uint64_t local_message_queue_len = 0;  // gauge: the Local process's mailbox
  uint64_t local_references_size = 0;    // gauge: active monitors (subscriber, ref)
  // zen_monitor.local.connector.*
  uint64_t connector_enqueue = 0;  // counter: subscribe/unsubscribe instructions queued
  uint64_t connector_sweep = 0;    // counter: instructions sent to proxies
  // zen_monitor.local.dispatcher.events.*
  uint64_t dispatcher_delivered = 0;  // counter: queued Downs taken by the dispatcher
  uint64_t dispatcher_processed = 0;  // counter: Downs sent (the rest were demonitored)
  // zen_monitor.proxy.*
  uint64_t proxy_message_queue_len = 0;  // gauge: the Proxy's mailbox
  uint64_t proxy_subscribers_size = 0;   // gauge: (target, subscribing node) rows
  // zen_monitor.proxy.batcher.*
  uint64_t batcher_enqueue = 0;  // counter: deaths queued for subscribing nodes
  uint64_t batcher_sweep = 0;    // counter: deaths sent to subscribing nodes

  // Writes every figure above with its dots as underscores, counters with
  // `_total` (zen_monitor_local_monitor_total, zen_monitor_local_batch_length).
  // A running ZenMonitor adds this to its runtime's metrics registry.
  void write(MetricsWriter& out) const;
};

}  // namespace plexus::zen

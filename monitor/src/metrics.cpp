#include "plexus/zen/metrics.h"

#include <cstdint>

namespace plexus::zen {

void Metrics::write(MetricsWriter& out) const {
  struct Row {
    const char* name;
    MetricKind kind;
    const char* help;
    uint64_t value;
  };
  const Row rows[] = {
      {"zen_monitor_local_monitor_total", MetricKind::kCounter, "monitor() calls", local_monitor},
      {"zen_monitor_local_demonitor_total", MetricKind::kCounter, "demonitor() calls",
       local_demonitor},
      {"zen_monitor_local_enqueue_total", MetricKind::kCounter, "Downs queued for the dispatcher",
       local_enqueue},
      {"zen_monitor_local_batch_length", MetricKind::kGauge, "Downs queued and not yet delivered",
       local_batch_length},
      {"zen_monitor_local_message_queue_len", MetricKind::kGauge, "messages in the Local's mailbox",
       local_message_queue_len},
      {"zen_monitor_local_references_size", MetricKind::kGauge, "active zen monitors",
       local_references_size},
      {"zen_monitor_local_connector_enqueue_total", MetricKind::kCounter,
       "subscribe and unsubscribe instructions queued by connectors", connector_enqueue},
      {"zen_monitor_local_connector_sweep_total", MetricKind::kCounter,
       "instructions sent to proxies", connector_sweep},
      {"zen_monitor_local_dispatcher_events_delivered_total", MetricKind::kCounter,
       "queued Downs taken by the dispatcher", dispatcher_delivered},
      {"zen_monitor_local_dispatcher_events_processed_total", MetricKind::kCounter,
       "Downs sent to subscribers", dispatcher_processed},
      {"zen_monitor_proxy_message_queue_len", MetricKind::kGauge, "messages in the Proxy's mailbox",
       proxy_message_queue_len},
      {"zen_monitor_proxy_subscribers_size", MetricKind::kGauge, "(target, subscribing node) rows",
       proxy_subscribers_size},
      {"zen_monitor_proxy_batcher_enqueue_total", MetricKind::kCounter,
       "deaths queued for subscribing nodes", batcher_enqueue},
      {"zen_monitor_proxy_batcher_sweep_total", MetricKind::kCounter,
       "deaths sent to subscribing nodes", batcher_sweep},
  };
  for (const Row& r : rows) {
    if (r.kind == MetricKind::kCounter) {
      out.counter(r.name, r.help, static_cast<double>(r.value));
    } else {
      out.gauge(r.name, r.help, static_cast<double>(r.value));
    }
  }
}

}  // namespace plexus::zen

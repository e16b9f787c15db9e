#include "plexus/zen/metrics.h"

#include <cstdint>
#include <sstream>

namespace plexus::zen {

std::string Metrics::to_prometheus() const {
  struct Row {
    const char* name;
    const char* type;
    const char* help;
    uint64_t value;
  };
  const Row rows[] = {
      {"zen_monitor_local_monitor", "counter", "monitor() calls", local_monitor},
      {"zen_monitor_local_demonitor", "counter", "demonitor() calls", local_demonitor},
      {"zen_monitor_local_enqueue", "counter", "Downs queued for the dispatcher", local_enqueue},
      {"zen_monitor_local_batch_length", "gauge", "Downs queued and not yet delivered",
       local_batch_length},
      {"zen_monitor_local_message_queue_len", "gauge", "messages in the Local's mailbox",
       local_message_queue_len},
      {"zen_monitor_local_references_size", "gauge", "active zen monitors", local_references_size},
      {"zen_monitor_local_connector_enqueue", "counter",
       "subscribe and unsubscribe instructions queued by connectors", connector_enqueue},
      {"zen_monitor_local_connector_sweep", "counter", "instructions sent to proxies",
       connector_sweep},
      {"zen_monitor_local_dispatcher_events_delivered", "counter",
       "queued Downs taken by the dispatcher", dispatcher_delivered},
      {"zen_monitor_local_dispatcher_events_processed", "counter", "Downs sent to subscribers",
       dispatcher_processed},
      {"zen_monitor_proxy_message_queue_len", "gauge", "messages in the Proxy's mailbox",
       proxy_message_queue_len},
      {"zen_monitor_proxy_subscribers_size", "gauge", "(target, subscribing node) rows",
       proxy_subscribers_size},
      {"zen_monitor_proxy_batcher_enqueue", "counter", "deaths queued for subscribing nodes",
       batcher_enqueue},
      {"zen_monitor_proxy_batcher_sweep", "counter", "deaths sent to subscribing nodes",
       batcher_sweep},
  };
  std::ostringstream out;
  for (const Row& r : rows) {
    out << "# HELP " << r.name << ' ' << r.help << '\n'
        << "# TYPE " << r.name << ' ' << r.type << '\n'
        << r.name << ' ' << r.value << '\n';
  }
  return out.str();
}

}  // namespace plexus::zen

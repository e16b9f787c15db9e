// A hub's figures for its runtime's metrics registry, each labelled with
// its hub id.
#include "hub_metrics.h"

namespace plexus::hub::detail {

void write_metrics(const HubState& state, MetricsWriter& out) {
  const HubCounters& c = state.counters;
  std::initializer_list<MetricLabel> hub = {{"hub", state.config.hub_id}};
  const strategies::View view = state.view();
  out.gauge("plexus_hub_children", "live children in this node's registry (the whole hub's)",
            static_cast<double>(state.registry.live_count()), hub);
  out.gauge("plexus_hub_local_children", "copies of children running on this node",
            c.local_children, hub);
  out.gauge("plexus_hub_store_children",
            "children (and tombstones) in this node's store of durable children", c.stored_children,
            hub);
  out.gauge("plexus_hub_restored_children",
            "live children this node's store gave back when the hub started", c.restored_children,
            hub);
  out.gauge("plexus_hub_tombstones", "tombstones kept until storage_purge_interval",
            static_cast<double>(state.registry.tombstone_count()), hub);
  out.gauge("plexus_hub_members", "members in this node's view of the hub",
            static_cast<double>(view.members().size()), hub);
  out.gauge("plexus_hub_view_number", "the number of the view this node adopted",
            static_cast<double>(view.number()), hub);
  out.gauge("plexus_hub_locked", "1 while a handoff round runs", state.locked.load(), hub);
  out.gauge("plexus_hub_partitioned", "1 while the hub is in partition mode (quorum strategies)",
            state.partitioned(), hub);
  out.gauge("plexus_hub_refused", "1 if the hub refuses members whose configuration differs",
            state.refusal().empty() ? 0 : 1, hub);
  struct Counter {
    const char* name;
    const char* help;
    const std::atomic<uint64_t>& value;
  };
  const Counter counters[] = {
      {"plexus_hub_children_started_total", "copies of children started on this node",
       c.children_started},
      {"plexus_hub_start_failures_total", "copies that failed to start on this node",
       c.start_failures},
      {"plexus_hub_children_halted_total", "copies halted on this node by a decider",
       c.children_halted},
      {"plexus_hub_children_restarted_total", "restarts by this node's supervisor",
       c.children_restarted},
      {"plexus_hub_children_ended_total",
       "copies that ended for good on this node (transient normal exit, restarts exhausted)",
       c.children_ended},
      {"plexus_hub_migrations_total", "children moved to another node by this node's decider",
       c.migrations},
      {"plexus_hub_handovers_total", "copies on this node that handed their child's state over",
       c.handovers},
      {"plexus_hub_handovers_called_off_total",
       "hot swaps this node's decider called off (the child stayed where it was)",
       c.handovers_called_off},
      {"plexus_hub_messages_held_total",
       "messages Hub::send held on this node while their child moved, then sent on",
       c.messages_held},
      {"plexus_hub_views_total", "views adopted (each starts a handoff round)", c.views},
      {"plexus_hub_sync_rounds_total", "anti-entropy summaries sent to a member", c.sync_rounds},
      {"plexus_hub_records_applied_total", "registry records taken in (new versions)",
       c.records_applied},
      {"plexus_hub_record_messages_sent_total",
       "messages of committed records sent to members (pubsub or gossip)", c.record_messages_sent},
      {"plexus_hub_record_bytes_sent_total",
       "protobuf bytes of those messages (without the node's framing)", c.record_bytes_sent},
      {"plexus_hub_gossip_duplicates_total",
       "gossiped changes that reached this node again (dropped unapplied)", c.gossip_duplicates},
      {"plexus_hub_gossip_resends_total",
       "gossip sends made again: no acknowledgement in time, or the receiver lost",
       c.gossip_resends},
      {"plexus_hub_store_write_errors_total",
       "writes of this node's store of durable children that failed (logged)",
       c.store_write_errors},
  };
  for (const Counter& counter : counters) {
    out.counter(counter.name, counter.help, counter.value, hub);
  }
}

}  // namespace plexus::hub::detail

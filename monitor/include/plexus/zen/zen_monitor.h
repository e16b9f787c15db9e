// The zen monitor: remote monitoring that stays cheap at millions of monitors
// and calm when a node with many monitored processes dies. Discord's
// ZenMonitor, for Plexus; docs/zen-monitor.md explains the design.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "plexus/context.h"
#include "plexus/node/node.h"
#include "plexus/pid.h"
#include "plexus/status.h"
#include "plexus/zen/down.h"
#include "plexus/zen/metrics.h"
#include "plexus/zen/options.h"
#include "plexus/zen/truncate.h"

namespace plexus::zen {

namespace detail {
struct State;
}

// What a node knows of another node's zen monitor.
enum class Compatibility {
  kUnknown,       // not asked yet (nothing monitored there), or the answer is pending
  kCompatible,    // it runs one: monitors there go through its Proxy
  kIncompatible,  // it does not answer: monitors there are plain remote monitors
  kUnavailable,   // the node is down
};
const char* to_string(Compatibility c);

// One node's zen monitor: its Local (subscriptions and the dispatcher), its
// Connectors (one per node with monitored processes, started on first use) and
// its Proxy (for the other nodes' monitors of this node's processes). Start
// one on every node; a node without one is still monitored, with plain remote
// monitors.
//
// monitor() and demonitor() are called by the subscribing process itself, on
// its own thread, like Context::monitor: the subscription table is written
// there, and everything else happens in the zen monitor's processes.
class ZenMonitor {
 public:
  // Starts the processes ("plexus.zen.local" and "plexus.zen.proxy" are
  // registered names). kInvalidArgument for bad options; kAlreadyExists if
  // the node already runs a zen monitor.
  static Result<std::unique_ptr<ZenMonitor>> start(Node& node, Options options = {});
  // Ends its processes. Destroy it before its Node.
  ~ZenMonitor();
  ZenMonitor(const ZenMonitor&) = delete;
  ZenMonitor& operator=(const ZenMonitor&) = delete;

  // The zen monitor of the node `self` runs on, or null.
  static ZenMonitor* of(const Context& self);

  // Monitors `target` (on any node, this one too) for `self`: one zen::Down
  // with the returned ref reaches `self` when the target is gone, through the
  // throttled dispatcher. As Context::monitor, stackable: each call is a new
  // monitor with its own Down.
  Ref monitor(const Context& self, Pid target);
  // Removes the monitor; no Down for it is delivered afterwards. With
  // Flush::kYes a Down for it already in the mailbox is removed too. True if
  // the monitor was active (no Down had been delivered for it).
  bool demonitor(const Context& self, Ref ref, Flush flush = Flush::kNo);

  // The compatibility of `node` ("name@host:port") as its Connector last saw it.
  Compatibility compatibility(const std::string& node) const;

  const Options& options() const;
  // Changes the dispatcher's rate from its next interval on.
  Status set_demand(size_t amount, std::chrono::milliseconds interval);
  size_t demand_amount() const;
  std::chrono::milliseconds demand_interval() const;

  Metrics metrics() const;

 private:
  explicit ZenMonitor(std::shared_ptr<detail::State> state);
  std::shared_ptr<detail::State> state_;
  // metrics() in the runtime's registry while this monitor runs.
  MetricsRegistry::Registration metrics_;
};

// ZenMonitor::of(self)->monitor(self, target). The node must run a zen monitor.
Ref monitor(const Context& self, Pid target);
// ZenMonitor::of(self)->demonitor(self, ref, flush).
bool demonitor(const Context& self, Ref ref, Flush flush = Flush::kNo);

}  // namespace plexus::zen

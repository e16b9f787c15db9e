#include "plexus/zen/zen_monitor.h"

#include <mutex>
#include <shared_mutex>
#include <unordered_map>

#include "local.h"
#include "plexus/runtime.h"
#include "plexus/spi/distribution.h"
#include "proxy.h"
#include "state.h"

namespace plexus::zen {

namespace {

// The zen monitor of each runtime, for ZenMonitor::of: read by every
// zen::monitor() call, written when a zen monitor starts or ends.
std::shared_mutex registry_mu;
std::unordered_map<const Runtime*, ZenMonitor*>& registry() {
  static auto* map = new std::unordered_map<const Runtime*, ZenMonitor*>();
  return *map;
}

Metrics snapshot(const detail::State& state) {
  const detail::Counters& c = state.counters;
  auto get = [](const std::atomic<uint64_t>& v) { return v.load(std::memory_order_relaxed); };
  Metrics m;
  m.local_monitor = get(c.local_monitor);
  m.local_demonitor = get(c.local_demonitor);
  m.local_enqueue = get(c.local_enqueue);
  m.local_batch_length = get(c.local_batch_length);
  m.local_message_queue_len = get(c.local_message_queue_len);
  m.local_references_size = state.references.size();
  m.connector_enqueue = get(c.connector_enqueue);
  m.connector_sweep = get(c.connector_sweep);
  m.dispatcher_delivered = get(c.dispatcher_delivered);
  m.dispatcher_processed = get(c.dispatcher_processed);
  m.proxy_message_queue_len = get(c.proxy_message_queue_len);
  m.proxy_subscribers_size = get(c.proxy_subscribers_size);
  m.batcher_enqueue = get(c.batcher_enqueue);
  m.batcher_sweep = get(c.batcher_sweep);
  return m;
}

}  // namespace

const char* to_string(Compatibility c) {
  switch (c) {
    case Compatibility::kUnknown:
      return "unknown";
    case Compatibility::kCompatible:
      return "compatible";
    case Compatibility::kIncompatible:
      return "incompatible";
    case Compatibility::kUnavailable:
      return "unavailable";
  }
  return "?";
}

Result<std::unique_ptr<ZenMonitor>> ZenMonitor::start(Node& node, Options options) {
  Status valid = options.validate();
  if (!valid.ok()) return valid;
  Runtime& rt = node.runtime();
  std::lock_guard<std::shared_mutex> lock(registry_mu);
  if (registry().count(&rt)) {
    return Status(StatusCode::kAlreadyExists, "node " + node.name() + " runs a zen monitor");
  }
  auto state = std::make_shared<detail::State>(node, options);
  state->proxy = rt.spawn_server<detail::Proxy>(state);
  state->local = rt.spawn_server<detail::Local>(state);
  Status named = state->proxy && state->local
                     ? rt.register_name(detail::kProxyName, state->proxy)
                     : Status(StatusCode::kResourceExhausted, "process table full");
  if (named.ok()) named = rt.register_name(detail::kLocalName, state->local);
  if (!named.ok()) {
    rt.exit(state->proxy, ExitReason::kill());
    rt.exit(state->local, ExitReason::kill());
    return named;
  }
  std::unique_ptr<ZenMonitor> zen(new ZenMonitor(std::move(state)));
  registry()[&rt] = zen.get();
  return zen;
}

ZenMonitor::ZenMonitor(std::shared_ptr<detail::State> state) : state_(std::move(state)) {
  metrics_ = state_->runtime.metrics().add(
      [state = state_](MetricsWriter& out) { snapshot(*state).write(out); });
}

ZenMonitor::~ZenMonitor() {
  metrics_.reset();
  {
    std::lock_guard<std::shared_mutex> lock(registry_mu);
    registry().erase(&state_->runtime);
  }
  Runtime& rt = state_->runtime;
  // The Batchers are linked to the Proxy and go with it.
  for (Pid connector : state_->connectors()) rt.exit(connector, ExitReason::kill());
  rt.exit(state_->proxy, ExitReason::kill());
  rt.exit(state_->local, ExitReason::kill());
}

ZenMonitor* ZenMonitor::of(const Context& self) {
  std::shared_lock<std::shared_mutex> lock(registry_mu);
  auto it = registry().find(&self.runtime());
  return it == registry().end() ? nullptr : it->second;
}

Ref ZenMonitor::monitor(const Context& self, Pid target) {
  detail::State& s = *state_;
  detail::add(s.counters.local_monitor);
  Ref ref = s.runtime.make_ref();
  Pid subscriber = self.self();
  bool first = s.references.insert(subscriber, ref, target);
  Pid connector = s.connector_for(target.node);
  if (target.node != 0) {
    (void)s.runtime.send(connector, detail::ConnectorMonitor{target, ref, subscriber});
  } else {
    // A local target is monitored before this call returns, as
    // Context::monitor does it: whatever ends the target after this is
    // seen with its reason, never as noproc. The Connector is made to hold
    // the monitor (an adoption, then the rows, then the monitor itself, in
    // this order, so that its Down can only come after both).
    Ref native = s.runtime.make_ref();
    spi::signal<plexus::detail::NoPayload>(
        s.runtime, connector, plexus::detail::EnvelopeKind::kMonitorAdopt, target, native);
    (void)s.runtime.send(connector, detail::ConnectorMonitor{target, ref, subscriber, native});
    spi::signal<plexus::detail::NoPayload>(
        s.runtime, target, plexus::detail::EnvelopeKind::kMonitor, connector, native);
  }
  if (first) (void)s.runtime.send(s.local, detail::MonitorSubscriber{subscriber});
  return ref;
}

bool ZenMonitor::demonitor(const Context& self, Ref ref, Flush flush) {
  detail::State& s = *state_;
  detail::add(s.counters.local_demonitor);
  std::optional<Pid> target = s.references.take(self.self(), ref);
  if (target) {
    (void)s.runtime.send(s.connector_for(target->node), detail::ConnectorDemonitor{*target, ref});
    return true;
  }
  // No row: its Down, if any, is already in the mailbox (the Dispatcher sends
  // it while it removes the row).
  if (flush == Flush::kYes) self.discard<Down>([ref](const Down& d) { return d.ref == ref; });
  return false;
}

Compatibility ZenMonitor::compatibility(const std::string& node) const {
  if (node == state_->node.name()) return Compatibility::kCompatible;
  return state_->compatibility(node);
}

const Options& ZenMonitor::options() const { return state_->options; }

Status ZenMonitor::set_demand(size_t amount, std::chrono::milliseconds interval) {
  if (amount == 0) return Status(StatusCode::kInvalidArgument, "demand_amount must be at least 1");
  if (interval.count() <= 0) {
    return Status(StatusCode::kInvalidArgument, "demand_interval must be positive");
  }
  state_->demand_amount.store(amount, std::memory_order_relaxed);
  state_->demand_interval_ms.store(interval.count(), std::memory_order_relaxed);
  return Status::OK();
}

size_t ZenMonitor::demand_amount() const {
  return state_->demand_amount.load(std::memory_order_relaxed);
}

std::chrono::milliseconds ZenMonitor::demand_interval() const {
  return std::chrono::milliseconds(state_->demand_interval_ms.load(std::memory_order_relaxed));
}

Metrics ZenMonitor::metrics() const { return snapshot(*state_); }

Ref monitor(const Context& self, Pid target) { return ZenMonitor::of(self)->monitor(self, target); }

bool demonitor(const Context& self, Ref ref, Flush flush) {
  return ZenMonitor::of(self)->demonitor(self, ref, flush);
}

}  // namespace plexus::zen

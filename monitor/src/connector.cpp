#include "connector.h"

#include <algorithm>
#include <chrono>

#include "plexus/node/exit_reason_proto.h"
#include "plexus/runtime.h"
#include "plexus/zen/truncate.h"

namespace plexus::zen::detail {

Status Connector::init() {
  if (is_local()) {
    proxy_ = state_->proxy;
    set_mode(Compatibility::kCompatible);
  } else {
    node_name_ = state_->node.node_name(Pid{node_index_, 0, 0});
  }
  self().runtime().send_after(self().self(), state_->options.connector_sweep_interval, Sweep{});
  return Status::OK();
}

void Connector::handle_info(Message& msg) {
  if (auto* m = msg.get_if<ConnectorMonitor>()) {
    monitor(*m);
  } else if (auto* d = msg.get_if<ConnectorDemonitor>()) {
    demonitor(*d);
  } else if (auto* dead_msg = msg.get_if<Dead>()) {
    dead(*dead_msg);
  } else if (auto* down = msg.get_if<plexus::Down>()) {
    if (down->ref == proxy_monitor_ && proxy_monitor_) {
      proxy_monitor_ = Ref{};
      if (down->reason.kind() == ExitReason::Kind::kNoConnection) {
        node_lost();
      } else {
        proxy_died();
      }
    } else {
      plain_down(*down);
    }
  } else if (msg.is<FireMore>()) {
    fire_some();
  } else if (msg.is<Sweep>()) {
    sweep();
  } else if (auto* p = msg.get_if<Pong>()) {
    pong(*p);
  } else if (auto* t = msg.get_if<PingTimeout>()) {
    ping_timeout(t->ping);
  } else if (auto* nd = msg.get_if<NodeDown>()) {
    if (nd->node == node_name_) {
      watching_node_ = false;
      node_lost();
    }
  } else {
    Server::handle_info(msg);
  }
}

void Connector::monitor(const ConnectorMonitor& m) {
  if (is_local()) {
    // monitor() made this Connector's monitor of the target already.
    local_rows_.emplace(m.native, LocalRow{m.target, m.ref, m.subscriber});
    native_of_.emplace(m.ref, m.native);
    return;
  }
  auto [it, fresh] = targets_.try_emplace(m.target);
  it->second.monitors.emplace_back(m.ref, m.subscriber);

  if (gone_) {
    std::vector<Dispatch> downs;
    fire(m.target, it->second, nodedown(), &downs);
    targets_.erase(it);
    enqueue(std::move(downs));
    return;
  }
  if (!fresh) return;
  if (mode_ == Compatibility::kIncompatible) {
    monitor_plainly(m.target, it->second);
    return;
  }
  batch_.emplace_back(Op::kSubscribe, m.target);
  add(state_->counters.connector_enqueue);
  if (mode_ != Compatibility::kCompatible && ping_ == 0) ping();
}

void Connector::demonitor(const ConnectorDemonitor& d) {
  if (is_local()) {
    auto native = native_of_.find(d.ref);
    if (native == native_of_.end()) return;
    self().demonitor(native->second, Flush::kYes);
    local_rows_.erase(native->second);
    native_of_.erase(native);
    return;
  }
  auto it = targets_.find(d.target);
  if (it == targets_.end()) return;
  auto& monitors = it->second.monitors;
  auto row = std::find_if(monitors.begin(), monitors.end(),
                          [&](const auto& m) { return m.first == d.ref; });
  if (row == monitors.end()) return;
  monitors.erase(row);
  if (!monitors.empty()) return;
  if (it->second.plain) {
    self().demonitor(it->second.plain);  // a Down already here finds no row
    plain_.erase(it->second.plain);
  } else {
    batch_.emplace_back(Op::kUnsubscribe, d.target);
    add(state_->counters.connector_enqueue);
  }
  targets_.erase(it);
}

void Connector::sweep() {
  if (!is_local() && !gone_ && ping_ == 0 && (!targets_.empty() || !batch_.empty())) {
    bool retry =
        mode_ == Compatibility::kIncompatible && self().runtime().now_ms() >= next_ping_ms_;
    if (mode_ == Compatibility::kUnknown || mode_ == Compatibility::kUnavailable || retry) ping();
  }
  if (mode_ == Compatibility::kCompatible && !batch_.empty()) send_instructions();
  self().runtime().send_after(self().self(), state_->options.connector_sweep_interval, Sweep{});
}

void Connector::send_instructions() {
  Instructions out;
  state_->node.to_proto(self().self(), out.mutable_subscriber());
  size_t n = std::min(batch_.size(), state_->options.connector_chunk_size);
  Op run_op = Op::kSubscribe;
  uint32_t run = 0;
  for (size_t i = 0; i < n; ++i) {
    auto [op, target] = batch_.front();
    batch_.pop_front();
    if (op != run_op) {
      out.add_runs(run);
      run_op = op;
      run = 0;
    }
    ++run;
    out.add_index(target.index);
    out.add_serial(target.serial);
  }
  out.add_runs(run);
  // Published at once (a process's own sends leave at the end of its turn):
  // a sweep counted has reached the Proxy's mailbox, so whoever reads the
  // counter and then pings the Proxy is answered after the Proxy applied it.
  (void)self().runtime().send(proxy_, std::move(out));
  add(state_->counters.connector_sweep, n);
}

void Connector::ping() {
  Ping request;
  state_->node.to_proto(self().self(), request.mutable_connector());
  if (!watching_node_) {
    // A node that is down, or cannot be reached, answers with NodeDown.
    state_->node.monitor_node(self().self(), node_name_);
    watching_node_ = true;
  }
  ping_ = ++pings_;
  (void)state_->node.send(node_name_, kProxyName, std::move(request));
  self().runtime().send_after(self().self(), state_->options.ping_timeout, PingTimeout{ping_});
}

void Connector::pong(const Pong& pong) {
  ping_ = 0;
  Result<Pid> proxy = state_->node.from_proto(pong.proxy());
  if (!proxy.ok()) return;
  if (proxy->node != node_index_) {
    // The name answers with another incarnation: the one this Connector is
    // for has gone, and its pids with it.
    // (The name's compatibility is now the new incarnation's business.)
    gone_ = true;
    mode_ = Compatibility::kUnavailable;
    fire_all(nodedown());
    return;
  }
  failed_pings_ = 0;
  proxy_ = *proxy;
  if (!proxy_monitor_) proxy_monitor_ = self().monitor(proxy_);
  set_mode(Compatibility::kCompatible);
}

void Connector::ping_timeout(uint64_t ping) {
  if (ping != ping_) return;
  ping_ = 0;
  back_off();
  // What waited for the Proxy gets plain monitors instead, before the mode
  // says so (compatibility() then means the monitors are in place).
  batch_.clear();
  for (auto& [target, t] : targets_) {
    if (!t.plain) monitor_plainly(target, t);
  }
  set_mode(Compatibility::kIncompatible);
}

void Connector::back_off() {
  ++failed_pings_;
  auto backoff = state_->options.incompatible_backoff;
  for (int i = 1; i < failed_pings_ && backoff < state_->options.max_incompatible_backoff; ++i) {
    backoff *= 2;
  }
  backoff = std::min(backoff, state_->options.max_incompatible_backoff);
  next_ping_ms_ = self().runtime().now_ms() + backoff.count();
}

void Connector::node_lost() {
  ping_ = 0;
  if (proxy_monitor_) {
    self().demonitor(proxy_monitor_);
    proxy_monitor_ = Ref{};
  }
  set_mode(Compatibility::kUnavailable);
  fire_all(nodedown());
}

void Connector::proxy_died() {
  back_off();
  set_mode(Compatibility::kIncompatible);
  fire_all(nodedown());
}

void Connector::dead(const Dead& dead) {
  std::vector<ExitReason> reasons;
  reasons.reserve(dead.reasons_size());
  for (const auto& r : dead.reasons()) reasons.push_back(from_proto(r));
  int n = std::min({dead.index_size(), dead.serial_size(), dead.reason_size()});
  std::vector<Dispatch> downs;
  for (int i = 0; i < n; ++i) {
    Pid target{node_index_, dead.index(i), dead.serial(i)};
    auto it = targets_.find(target);
    if (it == targets_.end()) continue;  // demonitored meanwhile
    uint32_t r = dead.reason(i);
    fire(target, it->second,
         r < reasons.size() ? reasons[r] : ExitReason::error("undecodable reason"), &downs);
    targets_.erase(it);
  }
  enqueue(std::move(downs));
}

void Connector::plain_down(const plexus::Down& down) {
  if (is_local()) {
    auto row = local_rows_.find(down.ref);
    if (row == local_rows_.end()) return;
    const LocalRow& r = row->second;
    enqueue({Dispatch{r.subscriber, r.ref, r.target,
                      truncate(down.reason, state_->truncate_limits())}});
    native_of_.erase(r.ref);
    local_rows_.erase(row);
    return;
  }
  auto p = plain_.find(down.ref);
  if (p == plain_.end()) return;
  Pid target = p->second;
  plain_.erase(p);
  auto it = targets_.find(target);
  if (it == targets_.end()) return;
  std::vector<Dispatch> downs;
  ExitReason reason = down.reason.kind() == ExitReason::Kind::kNoConnection
                          ? nodedown()
                          : truncate(down.reason, state_->truncate_limits());
  fire(target, it->second, reason, &downs);
  targets_.erase(it);
  enqueue(std::move(downs));
}

void Connector::monitor_plainly(Pid target, Target& t) {
  t.plain = self().monitor(target);
  plain_.emplace(t.plain, target);
}

void Connector::fire_all(const ExitReason& reason) {
  for (const auto& [ref, target] : plain_) self().demonitor(ref);
  plain_.clear();
  batch_.clear();
  if (targets_.empty()) return;
  doomed_.emplace_back(std::move(targets_), reason);
  targets_ = {};
  if (doomed_.size() == 1) fire_some();
}

void Connector::fire_some() {
  constexpr size_t kFireChunk = 2'000;
  auto& [table, reason] = doomed_.front();
  std::vector<Dispatch> downs;
  while (!table.empty() && downs.size() < kFireChunk) {
    auto node = table.extract(table.begin());
    fire(node.key(), node.mapped(), reason, &downs);
  }
  enqueue(std::move(downs));
  if (table.empty()) doomed_.pop_front();
  // Through a timer, not a message to itself: a process goes on with the
  // messages that reach it during its turn, so a self-sent FireMore would
  // fire every chunk in one turn and starve the other processes.
  if (!doomed_.empty())
    self().runtime().send_after(self().self(), std::chrono::milliseconds(1), FireMore{});
}

void Connector::fire(Pid target, const Target& t, const ExitReason& reason,
                     std::vector<Dispatch>* out) {
  for (const auto& [ref, subscriber] : t.monitors) {
    out->push_back(Dispatch{subscriber, ref, target, reason});
  }
}

void Connector::enqueue(std::vector<Dispatch>&& downs) {
  if (downs.empty()) return;
  (void)self().send(state_->local, EnqueueDowns{std::move(downs)});
}

void Connector::set_mode(Compatibility mode) {
  mode_ = mode;
  if (!is_local()) state_->set_compatibility(node_name_, mode);
}

}  // namespace plexus::zen::detail

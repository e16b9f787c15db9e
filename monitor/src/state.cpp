#include "state.h"

#include "connector.h"

namespace plexus::zen::detail {

State::State(Node& node_in, Options options_in)
    : node(node_in),
      runtime(node_in.runtime()),
      options(options_in),
      demand_amount(options_in.demand_amount),
      demand_interval_ms(options_in.demand_interval.count()) {}

Pid State::connector_for(uint32_t node_index) {
  {
    std::shared_lock<std::shared_mutex> lock(mu_);
    auto it = connectors_.find(node_index);
    if (it != connectors_.end()) return it->second;
  }
  std::lock_guard<std::shared_mutex> lock(mu_);
  Pid& pid = connectors_[node_index];
  if (!pid) pid = runtime.spawn_server<Connector>(shared_from_this(), node_index);
  return pid;
}

std::vector<Pid> State::connectors() const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  std::vector<Pid> out;
  for (const auto& [index, pid] : connectors_) out.push_back(pid);
  return out;
}

void State::set_compatibility(const std::string& node, Compatibility c) {
  std::lock_guard<std::shared_mutex> lock(mu_);
  compatibility_[node] = c;
}

Compatibility State::compatibility(const std::string& node) const {
  std::shared_lock<std::shared_mutex> lock(mu_);
  auto it = compatibility_.find(node);
  return it == compatibility_.end() ? Compatibility::kUnknown : it->second;
}

}  // namespace plexus::zen::detail

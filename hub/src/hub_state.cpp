#include "hub_state.h"

#include "message_parts.h"

namespace plexus::hub::detail {

std::string server_name(const std::string& hub_id) { return "plexus.hub." + hub_id; }

HubState::HubState(Node& n, HubConfig c, strategies::Segments segments)
    : node(n),
      config(std::move(c)),
      signature(hub::signature(config)),
      server_name(detail::server_name(config.hub_id)),
      self{n.name(), n.creation()},
      part_bytes(part_budget(n.options().max_frame_size)),
      registry(segments),
      view_(0, {self}) {}

std::string_view HubState::node_of(Pid pid) const {
  return pid.node == 0 ? std::string_view(self.node) : node.node_name_view(pid);
}

std::vector<NodePid> HubState::node_pids(const ChildRecord& record) const {
  std::vector<NodePid> out;
  for (Pid pid : record.pids) out.push_back({std::string(node_of(pid)), pid});
  return out;
}

strategies::View HubState::view() const {
  plexus::detail::ReaderLock lock(mu_);
  return view_;
}

void HubState::set_view(strategies::View view) {
  plexus::detail::WriterLock lock(mu_);
  view_ = std::move(view);
}

std::string HubState::refusal() const {
  plexus::detail::ReaderLock lock(mu_);
  return refusal_;
}

void HubState::set_refusal(std::string why) {
  plexus::detail::WriterLock lock(mu_);
  refusal_ = std::move(why);
}

}  // namespace plexus::hub::detail

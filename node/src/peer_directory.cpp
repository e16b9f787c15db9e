#include "peer_directory.h"

namespace plexus::detail {

void PeerDirectory::set_self(std::string self) {
  MutexLock lock(mu_);
  self_ = std::move(self);
}

Peer* PeerDirectory::make(const std::string& name) {
  Result<NodeAddress> address = parse_node_name(name);
  if (!address.ok() || name == self_) return nullptr;
  auto peer = std::make_unique<Peer>(name, *address);
  Peer* raw = peer.get();
  peers_.emplace(name, std::move(peer));
  never_up_.insert(raw);
  return raw;
}

Peer* PeerDirectory::get(const std::string& name) {
  MutexLock lock(mu_);
  auto it = peers_.find(name);
  if (it != peers_.end()) return it->second.get();
  return make(name);
}

Peer* PeerDirectory::get_named(const std::string& name) {
  MutexLock lock(mu_);
  auto it = peers_.find(name);
  if (it != peers_.end()) return it->second.get();
  if (never_up_.size() >= kMaxNamed) return nullptr;
  return make(name);
}

void PeerDirectory::came_up(Peer& peer) {
  MutexLock lock(mu_);
  never_up_.erase(&peer);
}

Peer* PeerDirectory::find(const std::string& name) {
  MutexLock lock(mu_);
  auto it = peers_.find(name);
  return it == peers_.end() ? nullptr : it->second.get();
}

std::vector<std::string> PeerDirectory::connected(bool hidden) {
  std::vector<std::string> out;
  for_each([&](Peer& peer) {
    MutexLock peer_lock(peer.mu);
    if (peer.up && peer.hidden == hidden) out.push_back(peer.name);
  });
  return out;
}

}  // namespace plexus::detail

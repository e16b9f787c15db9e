// PeerDirectory: the peers of one node, by name.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "peer.h"
#include "plexus/detail/mutex.h"

namespace plexus::detail {

// Thread-safe. Peers are never removed: a Peer* it returns is valid for the
// node's lifetime.
class PeerDirectory {
 public:
  explicit PeerDirectory(std::string self) : self_(std::move(self)) {}

  // The node's own name changes once, when the port it listens on is known.
  void set_self(std::string self) PLEXUS_EXCLUDES(mu_);
  // The peer of `name` (made on first use); null for an invalid name or for
  // this node's own.
  Peer* get(const std::string& name) PLEXUS_EXCLUDES(mu_);
  // The peer of `name` if there is one; makes none (for what a node that has
  // proved nothing says about itself).
  Peer* find(const std::string& name) PLEXUS_EXCLUDES(mu_);
  // Calls f(peer) for every peer, in name order, with the directory's lock
  // held (f may take the peer's lock).
  template <class F>
  void for_each(F&& f) PLEXUS_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    for (auto& [name, peer] : peers_) f(*peer);
  }
  // The peers connected now.
  std::vector<std::string> connected() PLEXUS_EXCLUDES(mu_);

 private:
  Mutex mu_;
  std::string self_ PLEXUS_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Peer>> peers_ PLEXUS_GUARDED_BY(mu_);
};

}  // namespace plexus::detail

// PeerDirectory: the peers of one node, by name.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <unordered_set>
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
  // As get(), for a node only named in a pid a peer sent: null if kMaxNamed
  // peers have been made that never came up, so that a peer naming made-up
  // nodes cannot grow the directory without bound.
  Peer* get_named(const std::string& name) PLEXUS_EXCLUDES(mu_);
  // `peer`'s connection came up (it no longer counts as only named).
  void came_up(Peer& peer) PLEXUS_EXCLUDES(mu_);
  static constexpr size_t kMaxNamed = 16384;
  // Calls f(peer) for every peer, in name order, with the directory's lock
  // held (f may take the peer's lock).
  template <class F>
  void for_each(F&& f) PLEXUS_EXCLUDES(mu_) {
    MutexLock lock(mu_);
    for (auto& [name, peer] : peers_) f(*peer);
  }
  // The peers connected now: the visible ones, or the hidden ones.
  std::vector<std::string> connected(bool hidden = false) PLEXUS_EXCLUDES(mu_);

 private:
  Mutex mu_;
  std::string self_ PLEXUS_GUARDED_BY(mu_);
  std::map<std::string, std::unique_ptr<Peer>> peers_ PLEXUS_GUARDED_BY(mu_);
  std::unordered_set<const Peer*> never_up_ PLEXUS_GUARDED_BY(mu_);
  Peer* make(const std::string& name) PLEXUS_REQUIRES(mu_);
};

}  // namespace plexus::detail

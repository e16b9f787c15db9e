// Peer: everything this node keeps about one remote node name.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cross_node_tables.h"
#include "node_name.h"
#include "out_queue.h"
#include "plexus/detail/envelope.h"
#include "plexus/detail/mutex.h"
#include "plexus/pid.h"

namespace plexus::detail {

class Connection;

// Peers are made on first use (PeerDirectory) and live as long as the node:
// a Peer& stays valid on every thread. Its state is written by senders (any
// thread: queueing frames, the cross-node tables), by the loop (connections
// coming up and going down, writes) and at the end of a process's turn (its
// direct writes); all of it under `mu`.
class Peer {
 public:
  Peer(std::string name_in, NodeAddress address_in)
      : name(std::move(name_in)), address(std::move(address_in)) {}

  const std::string name;
  const NodeAddress address;

  Mutex mu;

  // ---- The connection
  // The connection in use, once its handshake is done.
  std::shared_ptr<Connection> up PLEXUS_GUARDED_BY(mu);
  bool connecting PLEXUS_GUARDED_BY(mu) = false;  // an outgoing connection is being made
  // The incarnation that `out` and `tables` are for (0: none yet) and its
  // NodeTable index.
  uint64_t creation PLEXUS_GUARDED_BY(mu) = 0;
  uint32_t index PLEXUS_GUARDED_BY(mu) = 0;
  uint64_t attempts_failed PLEXUS_GUARDED_BY(mu) = 0;
  // Outgoing attempts failed since the peer was last up: their log lines
  // back off (the 1st, 2nd, 4th, 8th, ... are logged).
  uint64_t failures_in_a_row PLEXUS_GUARDED_BY(mu) = 0;
  std::string last_error PLEXUS_GUARDED_BY(mu);
  CondVar changed;  // up, or an attempt failed
  bool seed PLEXUS_GUARDED_BY(mu) = false;
  // The connected incarnation is a hidden node (Handshake::peer_hidden).
  bool hidden PLEXUS_GUARDED_BY(mu) = false;
  std::vector<Pid> node_watchers PLEXUS_GUARDED_BY(mu);  // monitor_node

  // ---- What crosses it
  OutQueue out PLEXUS_GUARDED_BY(mu);
  CrossNodeTables tables PLEXUS_GUARDED_BY(mu);
  // Types sent on the current connection: TypeId -> number on the wire.
  std::unordered_map<TypeId, std::pair<uint32_t, const WireType*>> sent_types PLEXUS_GUARDED_BY(mu);
  // Processes suspended because `out` was full when they sent (see
  // Outbound::make_room): resumed when it drains, or when the peer is lost.
  std::vector<Pid> suspended_senders PLEXUS_GUARDED_BY(mu);
  uint64_t frames_in PLEXUS_GUARDED_BY(mu) = 0;
  uint64_t bytes_in PLEXUS_GUARDED_BY(mu) = 0;

  // True if something is to be written to an incarnation: a connection, or
  // what it is owed.
  bool in_use() const PLEXUS_REQUIRES(mu) { return up || !tables.empty() || !out.empty(); }
  // Forgets what was queued or tied for the incarnation in use, and returns
  // its tables to be fired.
  CrossNodeTables forget_incarnation() PLEXUS_REQUIRES(mu) {
    CrossNodeTables lost = std::move(tables);
    tables = CrossNodeTables{};
    out.clear();
    sent_types.clear();
    return lost;
  }
  // The suspended senders, to resume (outside the lock).
  std::vector<Pid> take_suspended() PLEXUS_REQUIRES(mu) { return std::move(suspended_senders); }
};

}  // namespace plexus::detail

// Peer: everything this node keeps about one remote node name.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "node_name.h"
#include "plexus/detail/envelope.h"
#include "plexus/node.h"
#include "plexus/pid.h"

namespace plexus::detail {

class Connection;

struct PidPairHash {
  size_t operator()(const std::pair<Pid, Pid>& p) const noexcept {
    return std::hash<Pid>()(p.first) * 31 + std::hash<Pid>()(p.second);
  }
};

struct PendingSpawn {
  Pid requester;
  SpawnOptions options;
};

// The links and monitors that cross to one node incarnation, as Erlang's
// distribution entry keeps them: when the connection is lost, each fires
// once with noconnection. Entries are added and removed as the signals that
// make and end them pass the connection, in either direction; a process
// decides for itself whether a signal still applies, so an entry outliving
// its link by a moment is harmless.
struct CrossNodeTables {
  std::unordered_set<std::pair<Pid, Pid>, PidPairHash> links;  // (local, remote)
  std::unordered_map<Ref, std::pair<Pid, Pid>>
      monitors_out;  // ref -> (local watcher, remote target)
  std::unordered_map<Ref, std::pair<Pid, Pid>>
      monitors_in;                               // ref -> (remote watcher, local target)
  std::unordered_map<Ref, PendingSpawn> spawns;  // spawn requests awaiting a reply

  bool empty() const {
    return links.empty() && monitors_out.empty() && monitors_in.empty() && spawns.empty();
  }
};

class Peer {
 public:
  Peer(std::string name, NodeAddress address)
      : name(std::move(name)), address(std::move(address)) {}

  const std::string name;
  const NodeAddress address;

  // Everything below is guarded by `mu`.
  std::mutex mu;
  std::shared_ptr<Connection> up;  // the connection in use, once its handshake is done
  bool connecting = false;         // an outgoing connection is being made
  int accepting = 0;               // incoming connections in their handshake
  // The incarnation that `out` and `tables` are for (0: none yet) and its
  // NodeTable index.
  uint64_t creation = 0;
  uint32_t index = 0;
  std::string out;            // frames queued for the peer, not yet written
  bool flush_posted = false;  // a flush of `out` is on its way to the I/O thread
  // The socket of `up` while the I/O thread has no write on it in flight and
  // none may start (plain TCP only): a sender may then write `out` to it
  // directly, under `mu`. -1 otherwise; the I/O thread sets it when it finds
  // nothing left to write and clears it when it takes `out` or closes.
  int write_fd = -1;
  std::chrono::steady_clock::time_point last_direct_write;  // the last such write
  bool closing = false;             // a close of `up` for a full queue is on its way
  std::condition_variable drained;  // `out` was taken for writing, or the peer was lost
  std::condition_variable changed;  // up, or an attempt failed
  uint64_t attempts_failed = 0;
  std::string last_error;
  CrossNodeTables tables;
  // Types sent on the current connection: TypeId -> number on the wire.
  std::unordered_map<TypeId, std::pair<uint32_t, const WireType*>> sent_types;
  std::vector<Pid> node_watchers;  // monitor_node
  bool seed = false;
  NodeStats stats;
};

}  // namespace plexus::detail

// CrossNodeTables: the links and monitors that cross to one node incarnation.
#pragma once

#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "plexus/node/node.h"
#include "plexus/pid.h"
#include "signal_kinds.h"

namespace plexus::detail {

struct PidPairHash {
  size_t operator()(const std::pair<Pid, Pid>& p) const noexcept {
    return std::hash<Pid>()(p.first) * 31 + std::hash<Pid>()(p.second);
  }
};

// A spawn request sent to the peer and not answered yet.
struct PendingSpawn {
  Pid requester;
  SpawnOptions options;
};

// Which way a signal crosses the connection.
enum class Crossing { kOut, kIn };

// The links and monitors that cross to one node incarnation, as Erlang's
// distribution entry keeps them: when the connection is lost, each fires
// once with noconnection. Entries are added and removed as the signals that
// make and end them pass the connection, in either direction; a process
// decides for itself whether a signal still applies, so an entry outliving
// its link by a moment is harmless. Guarded by its Peer's mutex.
struct CrossNodeTables {
  std::unordered_set<std::pair<Pid, Pid>, PidPairHash> links;  // (local, remote)
  // ref -> (local watcher, remote target)
  std::unordered_map<Ref, std::pair<Pid, Pid>> monitors_out;
  // ref -> (remote watcher, local target)
  std::unordered_map<Ref, std::pair<Pid, Pid>> monitors_in;
  std::unordered_map<Ref, PendingSpawn> spawns;  // spawn requests awaiting a reply

  bool empty() const {
    return links.empty() && monitors_out.empty() && monitors_in.empty() && spawns.empty();
  }

  // What a signal from `from` to `to` (`ref` for monitors) does, as it
  // crosses the connection `crossing`.
  void apply(TieEffect effect, Crossing crossing, Pid from, Pid to, Ref ref);
};

// Fires every entry of `tables` into `rt` with noconnection, as the loss of
// their node: linked processes get an exit signal, watchers a Down, watched
// processes a demonitor, requesters of spawns a SpawnReply with `why`.
void fire(Runtime& rt, CrossNodeTables tables, const std::string& why);

}  // namespace plexus::detail

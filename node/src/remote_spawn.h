// RemoteSpawn: process types spawnable by name, and spawns across nodes.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>

#include "connection.h"
#include "outbound.h"
#include "plexus/detail/mutex.h"
#include "plexus/node/spawn.h"
#include "wire_ids.h"

namespace plexus::detail {

// erlang:spawn_request by registered type name: the requester's side (a
// SpawnRequest out, its SpawnReply back) and the spawning side. Thread-safe;
// the on_* handlers run on the loop.
class RemoteSpawn {
 public:
  // Makes a process of a registered type from its serialized arguments, not
  // started; null with *error set if they do not parse.
  using Make = std::function<Process*(Runtime&, const std::string& args, Status* error)>;

  RemoteSpawn(Runtime& runtime, const std::string& self, PeerDirectory& peers, WireIds& ids,
              Outbound& outbound)
      : runtime_(runtime), self_(self), peers_(peers), ids_(ids), outbound_(outbound) {}

  Status add_type(const std::string& type, std::string args_type, Make make)
      PLEXUS_EXCLUDES(types_mu_);
  // Spawns on `node_name` (this node included); the requester gets a
  // SpawnReply with the returned ref.
  Ref request(Pid requester, const std::string& node_name, const std::string& type,
              const std::string& args_type, std::string args, SpawnOptions options);

  // Spawns a process of `type` on this node from `args` (of whatever
  // argument type the type takes), linked to `link_to` if it is not null.
  Result<Pid> spawn_here(const std::string& type, const std::string& args, Pid link_to);

  void on_request(Connection& conn, const wire::SpawnRequest& request);
  void on_reply(Connection& conn, const wire::SpawnReply& reply);

 private:
  struct ProcessType {
    std::string args_type;
    Make make;
  };
  // A process of a registered type, made but not started; null with *error.
  // `args_type` null: the arguments are taken to be of the type's own.
  Process* make(const std::string& type, const std::string* args_type, const std::string& args,
                Status* error) PLEXUS_EXCLUDES(types_mu_);

  Runtime& runtime_;
  const std::string& self_;  // this node's name
  PeerDirectory& peers_;
  WireIds& ids_;
  Outbound& outbound_;

  Mutex types_mu_;
  std::unordered_map<std::string, ProcessType> types_ PLEXUS_GUARDED_BY(types_mu_);
};

}  // namespace plexus::detail

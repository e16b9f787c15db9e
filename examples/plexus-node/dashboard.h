// The dashboard at / of plexus-node's HTTP port: static files, and
// /api/state, the JSON they poll (this node, the nodes it is connected to,
// its hubs, recent events).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "event_log.h"
#include "hub_control.h"
#include "plexus/node/http_server.h"
#include "plexus/node/node.h"

namespace plexus_node {

// What the other nodes said of themselves (their control process's info
// line), asked every `interval` by a process of the dashboard's own, so
// that /api/state, served on the I/O thread, never waits for the network.
class PeerInfoCache {
 public:
  void set(const std::string& node, std::string info_json);
  // {"<node>":<info>, ...} for the nodes in `connected`.
  std::string json(const std::vector<std::string>& connected) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> info_;
};

class Dashboard {
 public:
  // Starts the event log and the process that asks the peers for their info.
  // `node` and `hubs` must outlive the dashboard, the dashboard the HTTP
  // server.
  static plexus::Result<std::unique_ptr<Dashboard>> start(plexus::Node& node, const HubHost& hubs);
  ~Dashboard();

  // Adds "/", the static files and "/api/state" to `options`.
  void add_routes(plexus::HttpServerOptions& options);

  // The body of /api/state.
  std::string state_json() const;

 private:
  Dashboard(plexus::Node& node, const HubHost& hubs) : node_(node), hubs_(hubs) {}
  plexus::Node& node_;
  const HubHost& hubs_;
  EventLog events_;
  PeerInfoCache peers_;
  plexus::Pid poller_;
};

}  // namespace plexus_node

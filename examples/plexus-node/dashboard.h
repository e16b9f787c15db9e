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

// What /api/state shows that costs something to learn, refreshed every
// second by a process of the dashboard's own, so that /api/state, served on
// the I/O thread, neither waits for the network nor walks a registry: what
// the other nodes said of themselves (their control process's info line),
// and each hub's children by node (Hub::children_by_node).
class DashboardCache {
 public:
  void set_peer(const std::string& node, std::string info_json);
  void set_children_by_node(const std::string& hub, std::map<std::string, size_t> counts);
  // {"<node>":<info>, ...} for the nodes in `connected`.
  std::string peers_json(const std::vector<std::string>& connected) const;
  // {"<node>":<children>, ...} of `hub` at the last refresh.
  std::string children_by_node_json(const std::string& hub) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::string> peers_;
  std::map<std::string, std::map<std::string, size_t>> by_node_;
};

class Dashboard {
 public:
  // Starts the event log and the process that refreshes the cache.
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
  DashboardCache cache_;
  plexus::Pid poller_;
};

}  // namespace plexus_node

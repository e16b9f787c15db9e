// What the "control" process does for plexusctl's hub and net commands.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "node_control.pb.h"
#include "plexus/hub/hub.h"
#include "plexus/node/node.h"

namespace plexus_node {

// The hubs this daemon hosts (--hub), by id. Filled before the control
// process starts, then read by it (from its thread) and left alone.
class HubHost {
 public:
  // Starts a hub per id with `config`'s settings; the first error stops it.
  plexus::Status add(std::unique_ptr<plexus::hub::Hub> hub);
  plexus::hub::Hub* find(const std::string& id) const;
  std::vector<plexus::hub::Hub*> all() const;
  // The members of every hosted hub's view.
  std::vector<std::string> members() const;
  // Graceful leaves, each waited for up to `timeout`.
  void stop_all(std::chrono::milliseconds timeout);

 private:
  std::vector<std::unique_ptr<plexus::hub::Hub>> hubs_;
};

// Serves one command in a process of its own, so that a start that takes
// long does not hold up the control process; the answer goes to the
// command's reply_to.
void serve(plexus::Node& node, const HubHost& hubs, HubCommand command);
void serve(plexus::Node& node, const HubHost& hubs, const MembersRequest& request);
void serve(plexus::Node& node, const NetCommand& command);

}  // namespace plexus_node

// What the "control" process does for plexusctl's info, metrics and process.
#pragma once

#include <string>

#include "hub_control.h"
#include "node_control.pb.h"
#include "plexus/node/node.h"
#include "plexus/pid.h"
#include "plexus/status.h"

namespace plexus_node {

// Answers `command` to its reply_to. info and metrics are answered at once;
// process asks the process in a helper process of its own, so a busy target
// does not hold up the control process.
void serve(plexus::Node& node, const HubHost& hubs, NodeCommand command);

// "<0.12.3>" (or "0.12.3") as a pid of this node; kInvalidArgument
// otherwise, naming what was given.
plexus::Result<plexus::Pid> parse_local_pid(const std::string& text);

}  // namespace plexus_node

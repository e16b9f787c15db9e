// The "control" process of plexus-node: how other nodes ask a daemon about
// itself and make it act (NodeInfoRequest, SendExit in node_control.proto),
// and how plexusctl drives its hubs and its network (hub_control.h).
#pragma once

#include "hub_control.h"
#include "plexus/node/node.h"
#include "plexus/pid.h"
#include "plexus/status.h"

namespace plexus_node {

inline constexpr char kControlName[] = "control";

// Starts the control process and registers it as kControlName. `hubs` must
// outlive it.
plexus::Result<plexus::Pid> start_control(plexus::Node& node, const HubHost& hubs);

}  // namespace plexus_node

// The "control" process of plexus-node: how other nodes ask a daemon about
// itself and make it act (NodeInfoRequest, SendExit in node_control.proto).
#pragma once

#include "plexus/node/node.h"
#include "plexus/pid.h"
#include "plexus/status.h"

namespace plexus_node {

inline constexpr char kControlName[] = "control";

// Starts the control process and registers it as kControlName.
plexus::Result<plexus::Pid> start_control(plexus::Node& node);

}  // namespace plexus_node

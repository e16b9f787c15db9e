// The process types plexus-node registers, so that other nodes can spawn
// them by name (Node::spawn_request):
//
//   echo       (EchoArgs)   answers every Echo with an EchoReply
//   exiter     (ExiterArgs) waits for an ExitCommand and exits as it says
//   linker     (WatchArgs)  links to a pid and reports the Exit messages it gets
//   monitorer  (WatchArgs)  monitors a pid and reports its Down
//   counter    (CounterArgs) the hub's demo worker: one integer, CounterCall
//                           "get" and "incr" answered with a CounterValue
//
// Every one of them obeys an ExitCommand. Messages: node_control.proto.
#pragma once

#include "plexus/node/node.h"
#include "plexus/status.h"

namespace plexus_node {

plexus::Status register_process_types(plexus::Node& node);

}  // namespace plexus_node

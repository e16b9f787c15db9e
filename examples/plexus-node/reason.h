// Exit reasons in messages: plexus::ExitReason <-> plexus_node::Reason.
#pragma once

#include "node_control.pb.h"
#include "plexus/exit_reason.h"

namespace plexus_node {

Reason to_message(const plexus::ExitReason& reason);

// The reason as to_message wrote it; an `exact` that does not decode gives
// the runtime's undecodable-reason error, as on the wire.
plexus::ExitReason from_message(const Reason& reason);

}  // namespace plexus_node

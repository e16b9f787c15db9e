// Exit reasons in messages: plexus::ExitReason <-> plexus_node::Reason.
#pragma once

#include "node_control.pb.h"
#include "plexus/exit_reason.h"

namespace plexus_node {

Reason to_message(const plexus::ExitReason& reason);

// An EXCEPTION cannot be rebuilt as thrown: it comes back as an error with
// the same detail.
plexus::ExitReason from_message(const Reason& reason);

}  // namespace plexus_node

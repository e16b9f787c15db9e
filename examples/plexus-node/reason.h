// Exit reasons in messages: plexus::ExitReason <-> plexus_node::Reason.
#pragma once

#include "node_control.pb.h"
#include "plexus/exit_reason.h"

namespace plexus_node {

Reason to_message(const plexus::ExitReason& reason);

// The reason exactly as to_message wrote it (`exact`); from a sender that
// did not fill `exact`, rebuilt from kind and detail (an EXCEPTION then comes
// back as an error with the same detail).
plexus::ExitReason from_message(const Reason& reason);

}  // namespace plexus_node

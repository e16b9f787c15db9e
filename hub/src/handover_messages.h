// What a moving child and its node's hub server say to each other
// (plexus/hub/handover.h); local messages, never on the wire.
#pragma once

#include <cstdint>
#include <string>

#include "plexus/pid.h"

namespace plexus::hub::detail {

// The old copy's answer to a HandoverRequest: its state.
struct HandoverState {
  uint64_t move = 0;
  std::string child_id;
  Pid child;
  std::string state;
};

// The server's word on it: forward to `to` from now on (the new copy has
// the state), or, with a null `to`, carry on (the move was called off).
struct HandoverVerdict {
  uint64_t move = 0;
  Pid to;
};

// The server to a copy that handed its child over and forwards: nothing
// more comes to it that it must forward, and it ends once it has forwarded
// what came before this. A message, not an exit signal, so that what waits
// in its mailbox ahead of it is forwarded, not dropped.
struct ForwardingEnds {};

}  // namespace plexus::hub::detail

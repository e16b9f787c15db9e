// What a child of a durable hub and its node's hub server say to each other
// (plexus/hub/saved_state.h); local messages, never on the wire.
#pragma once

#include <string>

#include "plexus/status.h"

namespace plexus::hub::detail {

// A call to the server: keep `state` as child `child_id`'s saved state.
struct SaveState {
  std::string child_id;
  std::string state;
};

// Its answer, once the store wrote it (or why not).
struct StateSaved {
  Status status;
};

}  // namespace plexus::hub::detail

// RedundancySignal: what a replicated hub child is told of its mode.
#pragma once

#include <string>

#include "plexus/strategies/redundancy.h"

namespace plexus::hub {

// Sent by its node's hub to a child process, when the hub's redundancy has
// a signal (strategies::Redundancy::Signal) that covers `mode`: once its
// first record is committed, and again whenever its mode changes (its copy
// becomes the first of the record, or stops being it). With active_passive
// exactly one copy of each child is active once the registries agree: the
// first pid of its record.
struct RedundancySignal {
  std::string hub_id;
  std::string child_id;
  strategies::Redundancy::Mode mode = strategies::Redundancy::Mode::kActive;
};

}  // namespace plexus::hub

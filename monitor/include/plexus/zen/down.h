// The message a zen monitor delivers.
#pragma once

#include <ostream>

#include "plexus/exit_reason.h"
#include "plexus/pid.h"

namespace plexus::zen {

// Delivered once per zen monitor (ZenMonitor::monitor) when the monitored
// process is gone. A distinct type from plexus::Down, as ZenMonitor wraps the
// reason in `{zen_monitor, Reason}`: a process that uses both kinds of monitor
// can tell them apart. `reason` is
//   - the process's exit reason, truncated (see truncate.h) if it crossed
//     nodes;
//   - `noproc` if the process was not alive when the monitor was set up;
//   - nodedown() if its node (or that node's zen monitor) was lost.
struct Down {
  Ref ref;
  Pid pid;
  ExitReason reason;
};

// The reason of a Down whose target's node was lost: the atom `nodedown`.
ExitReason nodedown();
bool is_nodedown(const ExitReason& reason);

std::ostream& operator<<(std::ostream& os, const Down& down);

}  // namespace plexus::zen

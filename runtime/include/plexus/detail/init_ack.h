// InitAck: how a process started synchronously tells its starter that its
// initialization is done (proc_lib:init_ack). Internal.
#pragma once

#include "plexus/context.h"
#include "plexus/pid.h"
#include "plexus/status.h"

namespace plexus::detail {

// Sent by the new process to its starter under the starter's monitor ref:
// OK (it runs), kIgnored (it declined and is gone, exit reason normal), or
// the error it stopped with.
struct InitAck {
  Ref ref;
  Status status;
};

// Tells the starter of the running process, if one waits, how its start
// went; one that failed unlinks from its starter first. Once per process.
void ack_init(Context self, const Status& status);

}  // namespace plexus::detail

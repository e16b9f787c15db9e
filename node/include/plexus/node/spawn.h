// SpawnOptions and SpawnReply: a process started on another node by type name.
#pragma once

#include "plexus/pid.h"
#include "plexus/status.h"

namespace plexus {

struct SpawnOptions {
  bool link = false;     // link the new process to the requester
  bool monitor = false;  // the requester monitors it (the spawn reply's ref is the monitor's)
};

// The answer to Node::spawn_request, delivered to the requester.
struct SpawnReply {
  Ref ref;  // the spawn_request's ref
  Pid pid;  // the new process, or the null pid if `status` says why not
  Status status;
};

}  // namespace plexus

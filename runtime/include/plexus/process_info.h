// ProcessInfo: what a process is doing, as erlang:process_info/1 tells it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "plexus/pid.h"

namespace plexus {

// A snapshot that the process takes of itself when the request reaches it
// (Runtime::process_info, Context::process_info): every field is as of one
// moment of its life.
struct ProcessInfo {
  enum class Status {
    kWaiting,  // waiting for a message: in a receive, or a Server or Inbox between messages
    kRunning,  // it answered from its own code, mid-turn (it read its mailbox)
  };
  // One of its monitors of another process.
  struct Monitor {
    Ref ref;
    Pid pid;                // null for a monitor of a name on another node (known only there)
    std::string name = {};  // a monitor by registered name: the name and its node
    std::string node = {};
  };

  Pid pid;
  Status status = Status::kWaiting;
  std::string registered_name;   // empty: none
  size_t message_queue_len = 0;  // messages arrived and not yet received
  bool trap_exit = false;
  bool server = false;  // a plexus::Server (false: a coroutine or an Inbox)
  Pid parent;           // the process that started it (null: the outside world)
  std::vector<Pid> links;
  std::vector<Monitor> monitors;  // its monitors of others
  std::vector<Pid> monitored_by;  // the watchers of its monitors, one per monitor
};

// How much a process has to do, read from another thread while it runs
// (Runtime::process_loads): each figure as its owner last wrote it, which it
// does as it takes messages in and out, so neither is older than its last turn.
struct ProcessLoad {
  Pid pid;
  std::string registered_name;     // empty: none
  uint32_t message_queue_len = 0;  // messages taken into its mailbox and not yet received
                                   // (sends since its last turn began are not counted)
  uint32_t messages_taken = 0;     // received, flushed or discarded since it started (wraps)
};

}  // namespace plexus

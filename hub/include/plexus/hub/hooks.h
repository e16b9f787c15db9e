// Hooks: handlers a Hub runs at each event of its life (ProcessHub 0.5's).
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <variant>
#include <vector>

#include "plexus/hub/child_spec.h"
#include "plexus/hub/results.h"

namespace plexus::hub {

// The events, with what each handler is given.
enum class HookEvent {
  kPreNodeJoin,         // NodeJoin: members are about to be added to this node's view
  kPostNodeJoin,        // NodeJoin: ... were added (their handoff round is under way)
  kPreNodeLeave,        // NodeLeave: members are about to leave this node's view
  kPostNodeLeave,       // NodeLeave: ... left
  kChildRegistered,     // ChildChange: a child appeared in this node's registry
  kChildUnregistered,   // ChildChange: ... left it (stopped, or given up)
  kChildPidUpdated,     // PidUpdate: a child runs as a new pid (a restart, a move)
  kPreChildrenStart,    // ChildrenStart: this node's supervisor is about to start children
  kPostChildrenStart,   // ChildrenStart: ... started them (`started` has their pids)
  kPreRedistribution,   // Redistribution: this node's decider reconciles after a view change
  kPostRedistribution,  // Redistribution: ... has (the moves it made)
  kChildMigrated,       // Migration: a cold swap of a child this node decides is done
  kChildForwarded,      // Forwarded: a start this node does not decide went on
  kShutdown,            // Shutdown: the hub stops on this node
};

struct NodeJoin {
  std::vector<std::string> nodes;
};
struct NodeLeave {
  std::vector<std::string> nodes;
};
struct ChildChange {
  std::string id;
  std::vector<NodePid> nodes;  // where it runs (for kChildUnregistered: where it ran)
};
struct PidUpdate {
  std::string id;
  std::vector<NodePid> before;
  std::vector<NodePid> after;
};
struct ChildrenStart {
  std::vector<std::string> ids;
  std::vector<StartedChild> started;  // kPostChildrenStart only
};
struct Redistribution {
  uint64_t view = 0;
  std::vector<std::string> moved;  // kPostRedistribution: the children it moved or restarted
};
struct Migration {
  std::string id;
  std::string from;
  std::string to;
};
struct Forwarded {
  std::vector<std::string> ids;
  std::string to;
};
struct Shutdown {
  std::string node;
};

// A handler's data: the struct of its event.
using HookData = std::variant<NodeJoin, NodeLeave, ChildChange, PidUpdate, ChildrenStart,
                              Redistribution, Migration, Forwarded, Shutdown>;

// Runs in the hub's server process, one handler at a time, by rising
// priority (then by registration): it must be quick, and must not wait on
// the hub (no awaited call). One that throws is logged, and the others run.
using HookHandler = std::function<void(HookEvent event, const HookData& data)>;

// Runs on the caller's thread in start_child(ren), by rising priority, for
// each spec before it is sent: it may change the spec (its metadata,
// arguments, restart). One that throws fails the call.
using AlterHook = std::function<void(ChildSpec& spec)>;

}  // namespace plexus::hub

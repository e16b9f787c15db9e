// The options and results of the hub's start and stop calls (ProcessHub's
// StartResult and StopResult).
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "plexus/hub/child_spec.h"
#include "plexus/pid.h"
#include "plexus/strategies/distribution.h"

namespace plexus::hub {

// What a failed start of one child leaves: ProcessHub's rollback stops the
// children of the call that did start.
enum class OnFailure { kContinue, kRollback };

struct StartOptions {
  // False: the Future is ready at once (ProcessHub's :start_initiated) and
  // the children start in the background.
  bool awaitable = false;
  // How long the call waits for the deciders; those that do not answer in
  // time give `node_receive_timeout` errors.
  std::chrono::milliseconds timeout{10000};
  // Refuse the whole call, starting nothing, if this node's registry already
  // has one of its ids (an eventually consistent check, as ProcessHub's).
  bool check_existing = true;
  OnFailure on_failure = OnFailure::kContinue;
  // Merged into every child's metadata (the child's own keys win).
  Metadata metadata;
  // The guided strategy's child id -> nodes.
  strategies::ChildMapping child_mapping;
};

struct StopOptions {
  bool awaitable = false;
  std::chrono::milliseconds timeout{10000};
};

// A node and the pid a child runs as there.
struct NodePid {
  std::string node;
  Pid pid;

  friend bool operator==(const NodePid&, const NodePid&) = default;
};

struct StartedChild {
  std::string id;
  std::vector<NodePid> nodes;
};

// Why one child of a call did not start or stop: `reason` is ProcessHub's
// word ("already_started", "not_found", "node_receive_timeout", "no_owner")
// or the child's init error; `pid` is the running child for
// already_started.
struct ChildError {
  std::string id;
  std::string node;
  std::string reason;
  Pid pid;
};

struct StartResult {
  std::vector<StartedChild> started;
  std::vector<ChildError> errors;
  // The call failed and the children it started were stopped.
  bool rollback = false;

  // ProcessHub's status: ok when no child failed.
  bool ok() const { return errors.empty(); }
  // The first pid of the first started child, or the null pid.
  Pid pid() const;
};

struct StoppedChild {
  std::string id;
  std::vector<std::string> nodes;  // where it ran
};

struct StopResult {
  std::vector<StoppedChild> stopped;
  std::vector<ChildError> errors;

  bool ok() const { return errors.empty(); }
};

// What which_children gives for one member: the children its supervisor
// runs, as (id, pid) pairs.
struct NodeChildren {
  std::string node;
  std::vector<std::pair<std::string, Pid>> children;
};

// What child_lookup and registry_dump give for a child.
struct ChildInfo {
  std::string id;
  std::shared_ptr<const ChildSpec> spec;
  std::vector<NodePid> nodes;
  // The version of the record this was read from (ChildRecord): its
  // incarnation, then its epoch and stamp. Each change of the child makes a
  // newer one, and a later read on the same node never gives an older one.
  // (The epoch alone may go back across incarnations: a start on one side of
  // a split can be numbered below the other side's restarts.)
  uint64_t origin = 0;
  uint64_t epoch = 0;
  uint32_t stamp = 0;
  // The spec's metadata (with the call's merged in).
  const Metadata& metadata() const;
};

}  // namespace plexus::hub

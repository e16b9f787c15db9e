// Hub: children by ID across a cluster, as ProcessHub (docs/hub.md).
#pragma once

#include <algorithm>
#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/context.h"
#include "plexus/hub/child_record.h"
#include "plexus/hub/child_spec.h"
#include "plexus/hub/future.h"
#include "plexus/hub/hooks.h"
#include "plexus/hub/hub_config.h"
#include "plexus/hub/results.h"
#include "plexus/node/node.h"
#include "plexus/status.h"

namespace plexus::hub {

namespace detail {
struct HubState;
}

// Which children a list or which_children call covers.
enum class Scope { kLocal, kGlobal };

// One node's member of the hub `config.hub_id`: its server process
// ("plexus.hub.<hub_id>"), its registry of every child of the hub and its
// supervisor of the children placed here. The nodes that run a hub of one
// id form its cluster; they find each other over the node's connections.
//
// Every call may come from any thread. Queries read this node's registry and
// make no network call; start and stop calls return a Future at once.
class Hub {
 public:
  // Starts this node's member. kInvalidArgument (naming the setting) for a
  // bad config; kAlreadyExists if the node runs a hub of that id. Nothing
  // is left running on an error.
  static Result<std::unique_ptr<Hub>> start(Node& node, HubConfig config);
  // Kills the server and the children here without a graceful leave (as a
  // crash would); call stop() first for one.
  ~Hub();
  Hub(const Hub&) = delete;
  Hub& operator=(const Hub&) = delete;

  // A graceful leave: stops the children here, tells the other members (which
  // start them again on their new nodes), then ends the server. OK when done;
  // kNotFound if it was not alive.
  Future<Status> stop();
  // True until stop() finished or the server died.
  bool is_alive() const;

  const HubConfig& config() const;
  const std::string& hub_id() const;

  // ---- Starting and stopping. Errors of the call itself come as the
  // Result: no_children (no specs), already_started{ids} (check_existing),
  // the guided strategy's four, kUnavailable if the hub is not alive.
  Result<Future<StartResult>> start_child(ChildSpec spec, StartOptions options = {});
  Result<Future<StartResult>> start_children(std::vector<ChildSpec> specs,
                                             StartOptions options = {});
  Result<Future<StopResult>> stop_child(std::string id, StopOptions options = {});
  Result<Future<StopResult>> stop_children(std::vector<std::string> ids, StopOptions options = {});

  // ---- Hooks (ProcessHub's register_handler / cancel_handler)
  // Adds `handler` for `event` under `id`: kAlreadyExists if the event has a
  // hook of that id. Handlers run by rising priority (hooks.h).
  Status register_hook(HookEvent event, std::string id, int priority, HookHandler handler);
  // Removes it: false if there was none. Once it returns the handler is not
  // running and never runs again (called from a handler, it does not wait
  // for that handler's own return), so what the handler uses may go.
  bool cancel_hook(HookEvent event, const std::string& id);
  // The alter hooks, which may change each spec before it is started.
  Status register_alter_hook(std::string id, int priority, AlterHook hook);
  bool cancel_alter_hook(const std::string& id);

  // ---- Queries of this node's registry (no network call).
  // A pid on a node that is not a connected member is never given.
  std::optional<ChildInfo> child_lookup(std::string_view id) const;
  // The same into `out`, reusing its strings and vector, so that a caller
  // that looks up in a loop allocates nothing once they have grown: false
  // (and `out` left as it was) if `id` is unknown.
  bool child_lookup(std::string_view id, ChildInfo& out) const;
  Pid get_pid(std::string_view id) const;
  std::vector<Pid> get_pids(std::string_view id) const;
  // The pid of child `id`'s active copy: the first of its record (with
  // active_passive the only active one, RedundancySignal), or, while that
  // pid's node is gone and the child's decider has not committed its new
  // copies, the first pid still served. The null pid if none.
  Pid active_pid(std::string_view id) const;

  // ---- Messages to a child's active copy (active_pid), from a process
  // Sends `msg` to it: kNotFound if no copy of `id` is served here. While
  // the child is handed over (hot swap) the message is held on this node
  // and goes to the new copy once it is committed, after what this sender
  // sent before and before what it sends after: kResourceExhausted (try
  // again) if HubConfig::handover_buffer messages wait already;
  // kUnavailable (try again) if the copy is on a member new to this node's
  // view that has not yet said which children it handed over (one round
  // trip after the view changes: docs/hub.md, "Migration"). Published
  // at once (not batched with the turn's other sends), so that a move's
  // fence sees it.
  template <class T>
  Status send(Context self, std::string_view id, T&& msg) const {
    return send_message(self, id, Message::of(std::forward<T>(msg)));
  }
  Status send_message(Context self, std::string_view id, Message msg) const;
  // Calls it as Context::call, once no hot swap of it is under way. If that
  // copy is gone before it replies
  // (kNoProc, kExited), the call goes to the copy that takes its place once
  // this node's registry names it, until `timeout` has passed: so a request
  // may be handled twice (by a copy that died before it replied, then by the
  // next), as any retried call may. kNotFound if no copy is named in time.
  template <class R, class Req>
  Task<Result<R>> call(Context self, std::string id, Req request,
                       std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;
  // kGlobal: every child; kLocal: those with a pid on this node (with only
  // that pid).
  std::vector<StartedChild> process_list(Scope scope = Scope::kGlobal) const;
  std::vector<ChildInfo> registry_dump() const;
  // How many children the registry has (without copying it).
  size_t child_count() const;
  std::vector<StartedChild> tag_query(std::string_view tag) const;
  // How many children have their first copy (the active one) on each node,
  // by node name, from this node's registry. Walks the whole registry: for
  // dashboards and tools, not for a request path.
  std::map<std::string, size_t> children_by_node() const;
  // The members in this node's view, sorted; with or without this node.
  std::vector<std::string> nodes(bool include_local = false) const;
  // The children each member's supervisor runs, as ProcessHub's
  // which_children: kLocal, this member's; kGlobal, every member of this
  // node's view, asked over the network (a member that does not answer
  // within `timeout` is left out).
  Future<std::vector<NodeChildren>> which_children(
      Scope scope, std::chrono::milliseconds timeout = std::chrono::seconds(5));
  // True while this node's member re-checks ownership after a view change
  // (starts and stops are queued, not lost).
  bool is_locked() const;
  // True once this member holds what the members it reaches hold: every
  // hub member it reaches (but those a partition cut leaves out) is in its
  // view, and that view's handoff round is done. False from the start
  // until then (a node whose hub has just found its peers is not synced,
  // though its lone view's round is done), and during each round.
  bool is_synced() const;
  // True while the partition strategy has this member in partition mode
  // (never with divergence): its children are stopped, starts and stops
  // fail with "partitioned", and lookups find nothing.
  bool is_partitioned() const;
  // A planned change of the cluster's size (MajorityQuorum: the size whose
  // majority is quorum from now on, as ProcessHub's reset_cluster_size).
  // kInvalidArgument with another partition strategy or for 0, kShutdown
  // once the hub stopped.
  Status reset_cluster_size(size_t size);
  // The number of this node's view (for tests and operators).
  uint64_t view_number() const;
  // Why a peer refused this member (a different signature), or "".
  std::string refusal() const;

 private:
  explicit Hub(std::shared_ptr<detail::HubState> state);
  // The record's pids that are served (LiveNodes), with their nodes' names;
  // fill_ reuses `out`'s strings.
  std::vector<NodePid> node_pids(const ChildRecord& record) const;
  void fill_node_pids(const ChildRecord& record, std::vector<NodePid>& out) const;

  // True while child `id` is handed over to a new copy (hot swap).
  bool moving(std::string_view id) const;

  std::shared_ptr<detail::HubState> state_;
  // The hub's figures in the runtime's metrics while this handle lives.
  MetricsRegistry::Registration metrics_;
  uint64_t down_listener_ = 0;  // Node::add_down_listener: LiveNodes::set_down
};

// ---- Templates

template <class R, class Req>
Task<Result<R>> Hub::call(Context self, std::string id, Req request,
                          std::chrono::milliseconds timeout) const {
  // How often a call whose copy is gone looks again for the next one.
  constexpr int64_t kFollowMs = 10;
  const int64_t deadline = self.runtime().now_ms() + timeout.count();
  Pid gone;
  for (;;) {
    int64_t left = deadline - self.runtime().now_ms();
    if (left <= 0)
      co_return Status(StatusCode::kNotFound, "no copy of child '" + id + "' answered");
    Pid pid = moving(id) ? Pid{} : active_pid(id);
    if (!pid || pid == gone) {
      co_await self.receive(after(std::chrono::milliseconds(std::min(left, kFollowMs)), [] {}));
      continue;
    }
    Result<R> r = co_await self.call<R>(pid, request, std::chrono::milliseconds(left));
    if (r.ok() ||
        (r.status().code() != StatusCode::kNoProc && r.status().code() != StatusCode::kExited)) {
      co_return r;
    }
    gone = pid;
  }
}

}  // namespace plexus::hub

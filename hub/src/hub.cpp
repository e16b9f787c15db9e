#include "plexus/hub/hub.h"

#include <algorithm>
#include <set>

#include "hub_metrics.h"
#include "hub_server.h"
#include "hub_state.h"
#include "move_buffer.h"

namespace plexus::hub {

using detail::HubState;

Pid StartResult::pid() const {
  for (const StartedChild& c : started) {
    if (!c.nodes.empty()) return c.nodes.front().pid;
  }
  return Pid{};
}

const Metadata& ChildInfo::metadata() const {
  static const Metadata kNone;
  return spec ? spec->metadata : kNone;
}

Result<std::unique_ptr<Hub>> Hub::start(Node& node, HubConfig config) {
  if (Status valid = validate(config, node.options().tick_timeout); !valid.ok()) return valid;
  Result<strategies::Segments> segments = strategies::Segments::make(config.segments);
  if (!segments.ok()) return segments.status();
  Runtime& rt = node.runtime();
  std::string name = detail::server_name(config.hub_id);
  if (rt.whereis(name)) {
    return Status(StatusCode::kAlreadyExists,
                  "node " + node.name() + " runs hub " + config.hub_id + " already");
  }
  std::vector<ChildSpec> statics = config.child_specs;
  auto state = std::make_shared<HubState>(node, std::move(config), *segments);
  if (!state->config.store_path.empty()) {
    std::vector<std::string> notes;
    Result<std::unique_ptr<detail::ChildStore>> store =
        detail::ChildStore::open({state->config.store_path, state->config.store_sync}, node,
                                 *segments, &state->restored, &notes);
    for (const std::string& note : notes) rt.log(LogLevel::kWarning, note);
    if (!store.ok()) return store.status();
    state->store = std::move(*store);
  }
  state->server = rt.spawn_server<detail::HubServer>(state);
  if (!state->server) return Status(StatusCode::kResourceExhausted, "process table full");
  std::unique_ptr<Hub> hub(new Hub(std::move(state)));
  if (!statics.empty()) {
    // Each member asks for them; the deciders start each once.
    StartOptions options;
    options.awaitable = false;
    (void)hub->start_children(std::move(statics), options);
  }
  return hub;
}

Hub::Hub(std::shared_ptr<HubState> state) : state_(std::move(state)) {
  metrics_ = state_->node.runtime().metrics().add(
      [state = state_](MetricsWriter& out) { detail::write_metrics(*state, out); });
  // A lost node's pids stop being served as the node learns of it, not
  // once the server has taken its NodeDown (which the server still does,
  // for the rest of what a loss means).
  down_listener_ = state_->node.add_down_listener(
      [state = state_.get()](uint32_t node) { state->live.set_down(node); });
}

Hub::~Hub() {
  state_->node.remove_down_listener(down_listener_);
  metrics_.reset();
  if (state_->alive.exchange(false))
    state_->node.runtime().exit(state_->server, ExitReason::kill());
}

Future<Status> Hub::stop() {
  auto future = std::make_shared<detail::FutureState<Status>>(state_->node.runtime());
  if (!is_alive()) {
    future->set(Status(StatusCode::kNotFound, "hub " + hub_id() + " is not alive"));
  } else if (!state_->node.runtime().send(state_->server, detail::LocalLeave{future}).ok() ||
             !state_->node.runtime().alive(state_->server)) {
    future->set(Status(StatusCode::kNotFound, "hub " + hub_id() + " is not alive"));
  }
  return Future<Status>(future);
}

bool Hub::is_alive() const {
  return state_->alive.load() && state_->node.runtime().alive(state_->server);
}

const HubConfig& Hub::config() const { return state_->config; }
const std::string& Hub::hub_id() const { return state_->config.hub_id; }

Result<Future<StartResult>> Hub::start_child(ChildSpec spec, StartOptions options) {
  std::vector<ChildSpec> specs;
  specs.push_back(std::move(spec));
  return start_children(std::move(specs), std::move(options));
}

Result<Future<StartResult>> Hub::start_children(std::vector<ChildSpec> specs,
                                                StartOptions options) {
  if (specs.empty()) return Status(StatusCode::kInvalidArgument, "no_children");
  if (!is_alive()) return Status(StatusCode::kUnavailable, "hub " + hub_id() + " is not alive");
  std::vector<std::string> ids;
  for (ChildSpec& spec : specs) {
    // The alter hooks first: every check below sees what will be started.
    if (Status altered = state_->hooks.alter(spec); !altered.ok()) return altered;
    if (spec.id.empty()) return Status(StatusCode::kInvalidArgument, "a child spec without an id");
    if (spec.type.empty()) {
      return Status(StatusCode::kInvalidArgument, "child " + spec.id + " has no type");
    }
    ids.push_back(spec.id);
  }
  strategies::View view = state_->view();
  int replicas = std::min<int>(state_->config.redundancy->replication_factor(view),
                               static_cast<int>(view.size()));
  if (Status s = state_->config.distribution->check_start(
          ids, options.child_mapping.empty() ? nullptr : &options.child_mapping,
          std::max(1, replicas), view);
      !s.ok()) {
    return s;
  }
  if (options.check_existing) {
    std::vector<std::string> running;
    for (const std::string& id : ids) {
      if (state_->registry.find_live(id)) running.push_back(id);
    }
    if (!running.empty()) {
      std::string list;
      for (const std::string& id : running) list += (list.empty() ? "" : ",") + id;
      return Status(StatusCode::kAlreadyExists, "already_started " + list);
    }
  }
  detail::LocalStart call;
  call.call = state_->next_call.fetch_add(1);
  call.specs.reserve(specs.size());
  for (ChildSpec& spec : specs) {
    for (const auto& [key, value] : options.metadata) spec.metadata.emplace(key, value);
    call.specs.push_back(std::make_shared<const ChildSpec>(std::move(spec)));
  }
  Runtime& rt = state_->node.runtime();
  auto future = std::make_shared<detail::FutureState<StartResult>>(rt);
  if (options.awaitable) call.future = future;
  call.options = std::move(options);
  bool awaited = call.options.awaitable;
  if (!rt.send(state_->server, std::move(call)).ok()) {
    return Status(StatusCode::kUnavailable, "hub " + hub_id() + " is not alive");
  }
  if (!awaited) future->set(StartResult{});
  return Future<StartResult>(future);
}

Result<Future<StopResult>> Hub::stop_child(std::string id, StopOptions options) {
  std::vector<std::string> ids;
  ids.push_back(std::move(id));
  return stop_children(std::move(ids), options);
}

Result<Future<StopResult>> Hub::stop_children(std::vector<std::string> ids, StopOptions options) {
  if (ids.empty()) return Status(StatusCode::kInvalidArgument, "no_children");
  if (!is_alive()) return Status(StatusCode::kUnavailable, "hub " + hub_id() + " is not alive");
  Runtime& rt = state_->node.runtime();
  auto future = std::make_shared<detail::FutureState<StopResult>>(rt);
  detail::LocalStop call{state_->next_call.fetch_add(1), std::move(ids), options,
                         options.awaitable ? future : nullptr};
  if (!rt.send(state_->server, std::move(call)).ok()) {
    return Status(StatusCode::kUnavailable, "hub " + hub_id() + " is not alive");
  }
  if (!options.awaitable) future->set(StopResult{});
  return Future<StopResult>(future);
}

// ---- Hooks

Status Hub::register_hook(HookEvent event, std::string id, int priority, HookHandler handler) {
  return state_->hooks.add(event, std::move(id), priority, std::move(handler));
}
bool Hub::cancel_hook(HookEvent event, const std::string& id) {
  return state_->hooks.cancel(event, id);
}
Status Hub::register_alter_hook(std::string id, int priority, AlterHook hook) {
  return state_->hooks.add_alter(std::move(id), priority, std::move(hook));
}
bool Hub::cancel_alter_hook(const std::string& id) { return state_->hooks.cancel_alter(id); }

// ---- Queries

std::vector<NodePid> Hub::node_pids(const ChildRecord& record) const {
  std::vector<NodePid> out;
  fill_node_pids(record, out);
  return out;
}

void Hub::fill_node_pids(const ChildRecord& record, std::vector<NodePid>& out) const {
  size_t n = 0;
  for (Pid pid : record.pids) {
    if (!state_->live.serves(pid)) continue;
    if (n == out.size()) out.emplace_back();
    out[n].node.assign(state_->node_of(pid));
    out[n].pid = pid;
    ++n;
  }
  out.resize(n);
}

std::optional<ChildInfo> Hub::child_lookup(std::string_view id) const {
  ChildInfo info;
  if (!child_lookup(id, info)) return std::nullopt;
  return info;
}

bool Hub::child_lookup(std::string_view id, ChildInfo& out) const {
  detail::RecordPtr r = state_->registry.find_live(id);
  if (!r) return false;
  out.id.assign(r->id);
  fill_node_pids(*r, out.nodes);
  out.origin = r->origin;
  out.epoch = r->epoch;
  out.stamp = r->stamp;
  // Shares the record's count, not the spec's: the children of one call
  // share a spec, and readers on two cores would fight over its count.
  const ChildSpec* spec = r->spec.get();
  out.spec = std::shared_ptr<const ChildSpec>(std::move(r), spec);
  return true;
}

Pid Hub::get_pid(std::string_view id) const {
  Pid pid = state_->registry.first_pid(id);
  return state_->live.serves(pid) ? pid : Pid{};
}

Pid Hub::active_pid(std::string_view id) const {
  detail::RecordPtr r = state_->registry.find_live(id);
  return r ? state_->first_served(*r) : Pid{};
}

Status Hub::send_message(Context self, std::string_view id, Message msg) const {
  struct Send {
    const detail::HubState& state;
    Context self;
    Message& msg;
  } send{*state_, self, msg};
  Status sent = state_->registry.route(
      id,
      [](void* context, const ChildRecord* record, detail::MoveBuffer* moving) -> Status {
        Send& s = *static_cast<Send*>(context);
        Pid to;
        if (moving) {
          if (Status held = moving->hold(s.msg, &to); !held.ok()) return held;
          if (s.msg.empty()) return Status::OK();  // held until the move ends
        } else if (record) {
          to = s.state.first_served(*record);
          if (s.state.unheard.contains(to.node)) {
            return Status(StatusCode::kUnavailable,
                          "the hub has not yet heard which children the node of its copy moved");
          }
        }
        if (!to) return Status(StatusCode::kNotFound, "");
        return s.self.forward(to, std::move(s.msg));
      },
      &send);
  if (sent.code() == StatusCode::kNotFound) {
    return Status(StatusCode::kNotFound, "no child '" + std::string(id) + "'");
  }
  return sent;
}

bool Hub::moving(std::string_view id) const { return state_->registry.moving(id) != nullptr; }

std::vector<Pid> Hub::get_pids(std::string_view id) const {
  std::vector<Pid> out;
  if (detail::RecordPtr r = state_->registry.find_live(id)) {
    for (Pid pid : r->pids) {
      if (state_->live.serves(pid)) out.push_back(pid);
    }
  }
  return out;
}

std::vector<StartedChild> Hub::process_list(Scope scope) const {
  std::vector<StartedChild> out;
  std::vector<detail::RecordPtr> records =
      scope == Scope::kGlobal ? state_->registry.live() : state_->registry.on_node(0);
  out.reserve(records.size());
  for (const detail::RecordPtr& r : records) {
    StartedChild c{r->id, node_pids(*r)};
    if (scope == Scope::kLocal) {
      std::erase_if(c.nodes, [](const NodePid& np) { return np.pid.node != 0; });
    }
    out.push_back(std::move(c));
  }
  return out;
}

std::vector<ChildInfo> Hub::registry_dump() const {
  std::vector<ChildInfo> out;
  for (const detail::RecordPtr& r : state_->registry.live()) {
    out.push_back(ChildInfo{r->id, r->spec, node_pids(*r), r->origin, r->epoch, r->stamp});
  }
  return out;
}

size_t Hub::child_count() const { return state_->registry.live_count(); }

std::vector<StartedChild> Hub::tag_query(std::string_view tag) const {
  std::vector<StartedChild> out;
  for (const detail::RecordPtr& r : state_->registry.with_tag(tag)) {
    out.push_back({r->id, node_pids(*r)});
  }
  return out;
}

std::vector<std::string> Hub::nodes(bool include_local) const {
  std::vector<std::string> out;
  strategies::View view = state_->view();
  for (const strategies::Member& m : view.members()) {
    if (include_local || m.node != state_->self.node) out.push_back(m.node);
  }
  return out;
}

Future<std::vector<NodeChildren>> Hub::which_children(Scope scope,
                                                      std::chrono::milliseconds timeout) {
  auto future =
      std::make_shared<detail::FutureState<std::vector<NodeChildren>>>(state_->node.runtime());
  if (!is_alive() ||
      !state_->node.runtime()
           .send(state_->server, detail::LocalWhich{scope == Scope::kGlobal, timeout, future})
           .ok()) {
    future->set({});
  }
  return Future<std::vector<NodeChildren>>(future);
}

std::map<std::string, size_t> Hub::children_by_node() const {
  std::map<std::string, size_t> out;
  for (const auto& [node, count] : state_->registry.count_by_first_node()) {
    out[std::string(state_->node_of(Pid{node, 0, 1}))] += count;
  }
  return out;
}

bool Hub::is_locked() const { return state_->locked.load(std::memory_order_relaxed); }
bool Hub::is_synced() const { return state_->synced.load(std::memory_order_relaxed); }
bool Hub::is_partitioned() const { return state_->partitioned(); }

Status Hub::reset_cluster_size(size_t size) {
  const strategies::PartitionTolerance& strategy = *state_->config.partition_tolerance;
  if (!strategy.resizable()) {
    return Status(StatusCode::kInvalidArgument,
                  "hub " + state_->config.hub_id + ": its partition strategy " +
                      std::string(strategy.name()) + " has no cluster size to reset");
  }
  if (size == 0) return Status(StatusCode::kInvalidArgument, "a cluster size must be 1 or more");
  if (!is_alive()) return Status(StatusCode::kShutdown, "the hub is not running");
  return state_->node.runtime().send(state_->server, detail::LocalResize{size});
}
uint64_t Hub::view_number() const { return state_->view().number(); }
std::string Hub::refusal() const { return state_->refusal(); }

}  // namespace plexus::hub

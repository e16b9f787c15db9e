#include "event_log.h"

#include "json.h"
#include "plexus/log.h"
#include "plexus/node/events.h"

namespace plexus_node {

namespace {

std::string joined(const std::vector<std::string>& names) {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
  return out;
}

// Records NodeUp and NodeDown until the node stops.
plexus::Task<> watch_nodes(plexus::Context self, EventLog* log) {
  plexus::Node::of(self)->subscribe(self.self());
  for (;;) {
    co_await self.receive(
        [&](const plexus::NodeUp& up) { log->node_up(up.node); },
        [&](const plexus::NodeDown& down) { log->node_down(down.node, down.reason); });
  }
}

}  // namespace

void EventLog::add(std::string kind, std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  events_.push_back(Event{std::chrono::system_clock::now(), std::move(kind), std::move(text)});
  if (events_.size() > capacity_) events_.pop_front();
}

void EventLog::node_up(const std::string& node) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    down_.erase(node);
  }
  add("node", "node " + node + " up");
}

void EventLog::node_down(const std::string& node, const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    down_.insert(node);
  }
  add("node", "node " + node + " down: " + reason);
}

std::string EventLog::down_json() const {
  std::lock_guard<std::mutex> lock(mu_);
  return json_strings(down_);
}

std::string EventLog::json() const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out = "[";
  for (const Event& e : events_) {
    if (out.size() > 1) out += ",";
    out += "{\"time\":" + json_string(plexus::utc_timestamp(e.time)) +
           ",\"kind\":" + json_string(e.kind) + ",\"text\":" + json_string(e.text) + "}";
  }
  return out + "]";
}

constexpr char kHookId[] = "plexus-node.events";
constexpr plexus::hub::HookEvent kHooked[] = {plexus::hub::HookEvent::kPostNodeJoin,
                                              plexus::hub::HookEvent::kPostNodeLeave,
                                              plexus::hub::HookEvent::kPostRedistribution};

void EventLog::unwatch() {
  if (node_ == nullptr) return;
  for (plexus::hub::Hub* hub : hubs_->all()) {
    for (plexus::hub::HookEvent event : kHooked) hub->cancel_hook(event, kHookId);
  }
  node_->runtime().exit(watcher_, plexus::ExitReason::kill());
  node_ = nullptr;
}

plexus::Status EventLog::watch(plexus::Node& node, const HubHost& hubs) {
  watcher_ = node.runtime().spawn(watch_nodes, this);
  if (!watcher_) {
    return plexus::Status(plexus::StatusCode::kResourceExhausted, "cannot spawn the event log");
  }
  node_ = &node;
  hubs_ = &hubs;
  for (plexus::hub::Hub* hub : hubs.all()) {
    // One handler for every event of kHooked, told apart by its data.
    auto handler = [this, id = hub->hub_id()](plexus::hub::HookEvent,
                                              const plexus::hub::HookData& data) {
      if (const auto* join = std::get_if<plexus::hub::NodeJoin>(&data)) {
        add("hub", "hub " + id + ": " + joined(join->nodes) + " joined");
      } else if (const auto* leave = std::get_if<plexus::hub::NodeLeave>(&data)) {
        add("hub", "hub " + id + ": " + joined(leave->nodes) + " left");
      } else if (const auto* r = std::get_if<plexus::hub::Redistribution>(&data);
                 r && !r->moved.empty()) {
        add("hub", "hub " + id + ": in view " + std::to_string(r->view) +
                       ", this node moved or restarted " + std::to_string(r->moved.size()) +
                       " children");
      }
    };
    for (plexus::hub::HookEvent event : kHooked) {
      plexus::Status status = hub->register_hook(event, kHookId, 0, handler);
      if (!status.ok()) return status;
    }
  }
  return plexus::Status::OK();
}

}  // namespace plexus_node

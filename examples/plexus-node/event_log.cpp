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
  using plexus::hub::HookEvent;
  for (plexus::hub::Hub* hub : hubs.all()) {
    std::string id = hub->hub_id();
    auto on = [&](HookEvent event, plexus::hub::HookHandler handler) {
      return hub->register_hook(event, kHookId, 0, std::move(handler));
    };
    plexus::Status status = on(HookEvent::kPostNodeJoin, [this, id](HookEvent, const auto& data) {
      add("hub",
          "hub " + id + ": " + joined(std::get<plexus::hub::NodeJoin>(data).nodes) + " joined");
    });
    if (status.ok()) {
      status = on(HookEvent::kPostNodeLeave, [this, id](HookEvent, const auto& data) {
        add("hub",
            "hub " + id + ": " + joined(std::get<plexus::hub::NodeLeave>(data).nodes) + " left");
      });
    }
    if (status.ok()) {
      status = on(HookEvent::kPostRedistribution, [this, id](HookEvent, const auto& data) {
        const auto& r = std::get<plexus::hub::Redistribution>(data);
        if (r.moved.empty()) return;
        add("hub", "hub " + id + ": in view " + std::to_string(r.view) +
                       ", this node moved or restarted " + std::to_string(r.moved.size()) +
                       " children");
      });
    }
    if (!status.ok()) return status;
  }
  return plexus::Status::OK();
}

}  // namespace plexus_node

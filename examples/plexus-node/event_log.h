// The daemon's recent events, for the dashboard: nodes up and down, hub
// members joining and leaving, and the children each redistribution moved.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "hub_control.h"
#include "plexus/node/node.h"

namespace plexus_node {

// A bounded ring of events, newest last: the oldest go when it is full.
// Thread-safe: node events are added by a process of their own, hub events
// by the hubs' hooks, and the dashboard reads it on the node's I/O thread.
class EventLog {
 public:
  explicit EventLog(size_t capacity = 200) : capacity_(capacity) {}

  void add(std::string kind, std::string text);
  // [{"time":"2026-...Z","kind":"node","text":"node b@... up"}, ...], oldest first.
  std::string json() const;
  // The nodes seen going down that have not come back: ["b@...", ...].
  std::string down_json() const;
  void node_up(const std::string& node);
  void node_down(const std::string& node, const std::string& reason);

  // Starts recording `node`'s node events and each hosted hub's member and
  // redistribution events. The log must outlive the node's processes and
  // the hubs (the daemon keeps it to the end).
  plexus::Status watch(plexus::Node& node, const HubHost& hubs);
  // Stops recording (cancels the hooks, ends the process): before the log
  // goes.
  void unwatch();
  ~EventLog() { unwatch(); }

 private:
  struct Event {
    std::chrono::system_clock::time_point time;
    std::string kind;
    std::string text;
  };
  const size_t capacity_;
  plexus::Node* node_ = nullptr;  // set by watch()
  const HubHost* hubs_ = nullptr;
  plexus::Pid watcher_;
  mutable std::mutex mu_;
  std::deque<Event> events_;
  std::set<std::string> down_;
};

}  // namespace plexus_node

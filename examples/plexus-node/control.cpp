#include "control.h"

#include <chrono>
#include <optional>

#include "hub_control.h"
#include "node_commands.h"
#include "node_control.pb.h"
#include "reason.h"

namespace plexus_node {

namespace {

using plexus::Context;
using plexus::LogLevel;
using plexus::Message;
using plexus::Node;
using plexus::Pid;
using plexus::Result;
using plexus::Task;

void answer(Context self, const NodeInfoRequest& request) {
  Node& node = *Node::of(self);
  Result<Pid> to = node.from_proto(request.reply_to());
  if (!to.ok()) {
    self.runtime().log(LogLevel::kWarning, "control: bad reply_to: " + to.status().to_string());
    return;
  }
  NodeInfo info;
  info.set_node(node.name());
  info.set_creation(node.creation());
  for (std::string& n : node.nodes()) info.add_nodes(std::move(n));
  (void)self.send(*to, std::move(info));
}

void send_exit(Context self, const SendExit& request) {
  Result<Pid> target = Node::of(self)->from_proto(request.target());
  if (!target.ok()) {
    self.runtime().log(LogLevel::kWarning, "control: bad target: " + target.status().to_string());
    return;
  }
  self.exit(*target, from_message(request.reason()));
}

Task<> control(Context self, const HubHost* hubs) {
  for (;;) {
    std::optional<Message> message = co_await self.receive_any(std::chrono::hours(1));
    if (!message) continue;
    if (const auto* request = message->get_if<NodeInfoRequest>()) {
      answer(self, *request);
    } else if (const auto* request = message->get_if<SendExit>()) {
      send_exit(self, *request);
    } else if (auto* c = message->get_if<HubCommand>()) {
      serve(*Node::of(self), *hubs, std::move(*c));
    } else if (const auto* request = message->get_if<MembersRequest>()) {
      serve(*Node::of(self), *hubs, *request);
    } else if (const auto* c = message->get_if<NetCommand>()) {
      serve(*Node::of(self), *c);
    } else if (auto* c = message->get_if<NodeCommand>()) {
      serve(*Node::of(self), *hubs, std::move(*c));
    } else {
      self.runtime().log(LogLevel::kWarning, "control: dropped a message it does not serve");
    }
  }
}

}  // namespace

Result<Pid> start_control(Node& node, const HubHost& hubs) {
  Pid pid = node.runtime().spawn(control, &hubs);
  if (!pid) return plexus::Status(plexus::StatusCode::kResourceExhausted, "cannot spawn control");
  plexus::Status status = node.runtime().register_name(kControlName, pid);
  if (!status.ok()) return status;
  return pid;
}

}  // namespace plexus_node

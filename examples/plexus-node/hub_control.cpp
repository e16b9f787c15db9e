#include "hub_control.h"

#include <algorithm>
#include <chrono>
#include <optional>
#include <set>

#include "ctl_answer.h"
#include "json.h"

namespace plexus_node {

namespace {

using plexus::Context;
using plexus::Node;
using plexus::Pid;
using plexus::Result;
using plexus::Status;
using plexus::Task;
namespace hub = plexus::hub;

std::string nodes_json(const std::vector<hub::NodePid>& nodes) {
  std::string out = "[";
  for (const hub::NodePid& np : nodes) {
    if (out.size() > 1) out += ",";
    out += "{\"node\":" + json_string(np.node) + ",\"pid\":" + json_string(pid_text(np.pid)) + "}";
  }
  return out + "]";
}

std::string child_json(const std::string& id, const std::vector<hub::NodePid>& nodes,
                       const hub::Metadata& metadata) {
  std::string meta = "{";
  for (const auto& [k, v] : metadata) {
    if (meta.size() > 1) meta += ",";
    meta += json_string(k) + ":" + json_string(v);
  }
  return "{\"id\":" + json_string(id) + ",\"nodes\":" + nodes_json(nodes) +
         ",\"metadata\":" + meta + "}}";
}

std::string errors_json(const std::vector<hub::ChildError>& errors) {
  std::string out = "[";
  for (const hub::ChildError& e : errors) {
    if (out.size() > 1) out += ",";
    out += "{\"id\":" + json_string(e.id) + ",\"node\":" + json_string(e.node) +
           ",\"reason\":" + json_string(e.reason) + "}";
  }
  return out + "]";
}

std::string start_json(const hub::StartResult& r) {
  std::string started = "[";
  for (const hub::StartedChild& c : r.started) {
    if (started.size() > 1) started += ",";
    started += "{\"id\":" + json_string(c.id) + ",\"nodes\":" + nodes_json(c.nodes) + "}";
  }
  return std::string("{\"status\":") + (r.ok() ? "\"ok\"" : "\"error\"") +
         ",\"started\":" + started + "],\"errors\":" + errors_json(r.errors) +
         ",\"rollback\":" + json_bool(r.rollback) + "}";
}

std::string stop_json(const hub::StopResult& r) {
  std::string stopped = "[";
  for (const hub::StoppedChild& c : r.stopped) {
    if (stopped.size() > 1) stopped += ",";
    stopped += "{\"id\":" + json_string(c.id) + ",\"nodes\":" + json_strings(c.nodes) + "}";
  }
  return std::string("{\"status\":") + (r.ok() ? "\"ok\"" : "\"error\"") +
         ",\"stopped\":" + stopped + "],\"errors\":" + errors_json(r.errors) + "}";
}

hub::ChildSpec spec_of(const HubCommand& c, std::string id) {
  hub::ChildSpec spec;
  spec.id = std::move(id);
  spec.type = c.type();
  // The built-in workers all start from empty arguments (counter at 0).
  spec.metadata.insert(c.metadata().begin(), c.metadata().end());
  return spec;
}

Task<CtlAnswer> answer(Context self, const HubHost* hubs, HubCommand c) {
  hub::Hub* h = hubs->find(c.hub());
  Node& node = *Node::of(self);
  if (!h) co_return failure("no hub '" + c.hub() + "' on " + node.name());
  std::chrono::milliseconds timeout(c.timeout_ms() ? c.timeout_ms() : 10000);
  switch (c.op()) {
    case HubCommand::STATUS: {
      std::string nodes = json_strings(h->nodes(true));
      co_return one_line(std::string("{\"alive\":") + json_bool(h->is_alive()) +
                         ",\"locked\":" + json_bool(h->is_locked()) + ",\"partitioned\":" +
                         json_bool(h->is_partitioned()) + ",\"nodes\":" + nodes +
                         ",\"children\":" + std::to_string(h->child_count()) + "}");
    }
    case HubCommand::START:
    case HubCommand::START_MANY: {
      std::vector<hub::ChildSpec> specs;
      if (c.op() == HubCommand::START) {
        specs.push_back(spec_of(c, c.id()));
      } else {
        specs.reserve(c.count());
        for (uint64_t i = 0; i < c.count(); ++i)
          specs.push_back(spec_of(c, c.id() + std::to_string(i)));
      }
      auto began = std::chrono::steady_clock::now();
      auto future = h->start_children(std::move(specs), {.awaitable = true, .timeout = timeout});
      if (!future.ok()) co_return failure(future.status().message());
      Result<hub::StartResult> r = co_await future->await(self, timeout + std::chrono::seconds(5));
      if (!r.ok()) co_return failure(r.status().message());
      double seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
      std::string why = r->ok() ? "" : r->errors.front().id + ": " + r->errors.front().reason;
      if (c.op() == HubCommand::START) co_return one_line(start_json(*r), r->ok(), why);
      char line[160];
      std::snprintf(line, sizeof line, "{\"started\":%zu,\"errors\":%zu,\"seconds\":%.3f}",
                    r->started.size(), r->errors.size(), seconds);
      co_return one_line(line, r->ok(), why);
    }
    case HubCommand::STOP: {
      auto future = h->stop_child(c.id(), {.awaitable = true, .timeout = timeout});
      if (!future.ok()) co_return failure(future.status().message());
      Result<hub::StopResult> r = co_await future->await(self, timeout + std::chrono::seconds(5));
      if (!r.ok()) co_return failure(r.status().message());
      std::string why = r->ok() ? "" : r->errors.front().id + ": " + r->errors.front().reason;
      co_return one_line(stop_json(*r), r->ok(), why);
    }
    case HubCommand::LOOKUP: {
      std::optional<hub::ChildInfo> info = h->child_lookup(c.id());
      if (!info) co_return failure("no child '" + c.id() + "' in hub " + c.hub());
      co_return one_line(child_json(info->id, info->nodes, info->metadata()));
    }
    case HubCommand::LIST: {
      CtlAnswer a;
      a.set_ok(true);
      if (!c.local()) {
        for (const hub::ChildInfo& info : h->registry_dump())
          a.add_lines(child_json(info.id, info.nodes, info.metadata()));
        co_return a;
      }
      // --local: the processes this node's supervisor runs, not what the
      // registry says runs here, so that a copy the registry lost (or one
      // it names but that is gone) shows. The metadata is the registry's.
      Result<std::vector<hub::NodeChildren>> here =
          co_await h->which_children(hub::Scope::kLocal, timeout).await(self, timeout);
      if (!here.ok()) co_return failure(here.status().message());
      for (hub::NodeChildren& n : *here) {
        std::sort(n.children.begin(), n.children.end());
        for (const auto& [id, pid] : n.children) {
          std::optional<hub::ChildInfo> info = h->child_lookup(id);
          a.add_lines(child_json(id, {{n.node, pid}}, info ? info->metadata() : hub::Metadata{}));
        }
      }
      co_return a;
    }
    case HubCommand::CALL: {
      CounterCall call;
      call.set_op(c.message());
      node.to_proto(self.self(), call.mutable_reply_to());
      // Through the hub: held while the child moves (hot swap).
      if (Status sent = h->send(self, c.id(), std::move(call)); !sent.ok()) {
        co_return failure(sent.code() == plexus::StatusCode::kNotFound
                              ? "no child '" + c.id() + "' in hub " + c.hub()
                              : sent.message());
      }
      std::optional<CounterValue> v = co_await self.receive<CounterValue>(timeout);
      if (!v) co_return failure("child '" + c.id() + "' did not answer in time");
      if (!v->error().empty()) co_return failure(v->error());
      co_return one_line("{\"id\":" + json_string(c.id()) +
                         ",\"value\":" + std::to_string(v->value()) + "}");
    }
    case HubCommand::DRAIN: {
      if (!h->is_alive()) co_return failure("hub " + c.hub() + " is not alive on " + node.name());
      const int64_t began = self.runtime().now_ms();
      Status left = co_await h->stop().await(self, timeout);
      if (!left.ok()) co_return failure(left.message());
      char seconds[32];
      std::snprintf(seconds, sizeof seconds, "%.3f", (self.runtime().now_ms() - began) / 1000.0);
      co_return one_line("{\"hub\":" + json_string(c.hub()) +
                         ",\"node\":" + json_string(node.name()) +
                         ",\"drained\":true,\"seconds\":" + seconds + "}");
    }
    case HubCommand::RESIZE: {
      if (Status resized = h->reset_cluster_size(c.count()); !resized.ok()) {
        co_return failure(resized.message());
      }
      co_return one_line("{\"hub\":" + json_string(c.hub()) +
                         ",\"node\":" + json_string(node.name()) +
                         ",\"cluster_size\":" + std::to_string(c.count()) + "}");
    }
    default:
      co_return failure("unknown hub command");
  }
}

Task<> command(Context self, const HubHost* hubs, HubCommand c) {
  plexus::PidProto reply_to = c.reply_to();
  CtlAnswer a = co_await answer(self, hubs, std::move(c));
  send_answer(*Node::of(self), reply_to, std::move(a));
}

}  // namespace

Status HubHost::add(std::unique_ptr<hub::Hub> hub) {
  if (find(hub->hub_id())) return Status(plexus::StatusCode::kAlreadyExists, hub->hub_id());
  hubs_.push_back(std::move(hub));
  return Status::OK();
}

hub::Hub* HubHost::find(const std::string& id) const {
  for (const auto& h : hubs_) {
    if (h->hub_id() == id) return h.get();
  }
  return nullptr;
}

std::vector<hub::Hub*> HubHost::all() const {
  std::vector<hub::Hub*> out;
  for (const auto& h : hubs_) out.push_back(h.get());
  return out;
}

std::vector<std::string> HubHost::members() const {
  std::vector<std::string> out;
  for (const auto& h : hubs_) {
    for (std::string& n : h->nodes(true)) out.push_back(std::move(n));
  }
  return out;
}

void HubHost::stop_all(std::chrono::milliseconds timeout) {
  // The list stays: control's commands may still read it until the node
  // ends; a hub that has left answers as one that is not alive.
  std::vector<hub::Future<Status>> leaving;
  for (const auto& h : hubs_) leaving.push_back(h->stop());
  for (auto& f : leaving) (void)f.await(timeout);
}

void serve(Node& node, const HubHost& hubs, HubCommand c) {
  node.runtime().spawn(command, &hubs, std::move(c));
}

void serve(Node& node, const HubHost& hubs, const MembersRequest& request) {
  CtlAnswer a;
  a.set_ok(true);
  auto line = [&](const std::string& n, bool up) {
    a.add_lines("{\"node\":" + json_string(n) + ",\"creation\":" +
                std::to_string(node.creation_of(n)) + ",\"up\":" + json_bool(up) + "}");
  };
  line(node.name(), true);
  std::vector<std::string> up = node.nodes();
  for (const std::string& n : up) line(n, true);
  // Members of a hosted hub's view that are not connected now.
  std::set<std::string> down;
  for (const std::string& n : hubs.members()) {
    if (n != node.name() && std::find(up.begin(), up.end(), n) == up.end()) down.insert(n);
  }
  for (const std::string& n : down) line(n, false);
  send_answer(node, request.reply_to(), std::move(a));
}

void serve(Node& node, const NetCommand& c) {
  std::vector<std::string> peers(c.peers().begin(), c.peers().end());
  if (c.block()) {
    node.block(peers);
  } else {
    node.unblock(peers);
  }
  send_answer(node, c.reply_to(), one_line("{\"blocked\":" + json_strings(node.blocked()) + "}"));
}

}  // namespace plexus_node

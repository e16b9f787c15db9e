#include "node_commands.h"

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <sstream>
#include <utility>

#include "ctl_answer.h"
#include "json.h"
#include "plexus/metrics.h"

namespace plexus_node {

namespace {

using plexus::Context;
using plexus::Node;
using plexus::Pid;
using plexus::ProcessInfo;
using plexus::Result;
using plexus::Task;

// A pid of this node as "<0.index.serial>"; of another as "<node> <0.index.serial>",
// as that node prints it.
std::string pid_where(Pid pid, const Node& node) {
  return pid.node == 0 ? pid_text(pid) : node.node_name(pid) + " " + pid_text(pid);
}

std::string pids_json(const std::vector<Pid>& pids, const Node& node) {
  std::vector<std::string> texts;
  for (Pid pid : pids) texts.push_back(pid_where(pid, node));
  return json_strings(texts);
}

CtlAnswer info(Node& node, const HubHost& hubs) {
  std::vector<std::string> hub_ids;
  for (plexus::hub::Hub* h : hubs.all()) hub_ids.push_back(h->hub_id());
  plexus::Runtime& rt = node.runtime();
  return one_line("{\"node\":" + json_string(node.name()) +
                  ",\"creation\":" + std::to_string(node.creation()) +
                  ",\"uptime_s\":" + std::to_string(rt.now_ms() / 1000) + ",\"processes\":" +
                  std::to_string(rt.process_count()) + ",\"peers\":" + json_strings(node.nodes()) +
                  ",\"hidden_peers\":" + json_strings(node.hidden_nodes()) +
                  ",\"hubs\":" + json_strings(hub_ids) + "}");
}

CtlAnswer metrics(Node& node) {
  plexus::MetricsWriter writer;
  node.runtime().metrics().collect(writer);
  CtlAnswer a;
  a.set_ok(true);
  std::istringstream text(writer.prometheus({{"node", node.name()}}));
  for (std::string line; std::getline(text, line);) a.add_lines(std::move(line));
  return a;
}

std::string process_json(const ProcessInfo& p, const Node& node) {
  std::vector<std::string> monitors;
  for (const ProcessInfo::Monitor& m : p.monitors) {
    monitors.push_back(m.name.empty() ? pid_where(m.pid, node) : m.name + " on " + m.node);
  }
  return "{\"pid\":" + json_string(pid_text(p.pid)) + ",\"status\":" +
         json_string(p.status == ProcessInfo::Status::kWaiting ? "waiting" : "running") +
         ",\"name\":" + json_string(p.registered_name) +
         ",\"message_queue_len\":" + std::to_string(p.message_queue_len) +
         ",\"trap_exit\":" + json_bool(p.trap_exit) + ",\"server\":" + json_bool(p.server) +
         ",\"parent\":" + json_string(p.parent ? pid_text(p.parent) : "") +
         ",\"links\":" + pids_json(p.links, node) + ",\"monitors\":" + json_strings(monitors) +
         ",\"monitored_by\":" + pids_json(p.monitored_by, node) + "}";
}

Task<> process(Context self, Pid pid, plexus::PidProto reply_to) {
  Node& node = *Node::of(self);
  Result<ProcessInfo> got = co_await self.process_info(pid, std::chrono::seconds(5));
  send_answer(node, reply_to,
              got.ok() ? one_line(process_json(*got, node))
              : got.status().code() == plexus::StatusCode::kNoProc
                  ? failure("no process " + pid_text(pid) + " on " + node.name())
                  : failure("process " + pid_text(pid) + ": " + got.status().message()));
}

// plexusctl top: two readings of every process's load, `interval_ms` apart;
// a process's handled count is the difference (wrapping), or all it took if it
// started in between. Pids are compared in the table's order, which both
// readings share.
Task<> top(Context self, NodeCommand command) {
  plexus::Runtime& rt = self.runtime();
  std::vector<plexus::ProcessLoad> before = rt.process_loads();
  co_await self.receive(plexus::after(std::chrono::milliseconds(command.top_interval_ms()), [] {}));
  std::vector<plexus::ProcessLoad> after = rt.process_loads();
  struct Line {
    const plexus::ProcessLoad* load;
    uint32_t handled;
  };
  std::vector<Line> lines;
  lines.reserve(after.size());
  size_t b = 0;
  for (const plexus::ProcessLoad& now : after) {
    while (b < before.size() && before[b].pid.index < now.pid.index) ++b;
    bool same = b < before.size() && before[b].pid == now.pid;
    lines.push_back({&now, now.messages_taken - (same ? before[b].messages_taken : 0)});
  }
  auto key = [&](const Line& l) {
    return command.top_by_handled() ? std::pair(l.handled, l.load->message_queue_len)
                                    : std::pair(l.load->message_queue_len, l.handled);
  };
  size_t shown = std::min<size_t>(command.top_count(), lines.size());
  std::partial_sort(lines.begin(), lines.begin() + shown, lines.end(),
                    [&](const Line& x, const Line& y) {
                      return key(x) != key(y) ? key(x) > key(y) : x.load->pid < y.load->pid;
                    });
  CtlAnswer answer;
  answer.set_ok(true);
  double seconds = command.top_interval_ms() / 1000.0;
  for (size_t i = 0; i < shown; ++i) {
    const Line& l = lines[i];
    char rate[32];
    std::snprintf(rate, sizeof rate, "%.1f", l.handled / seconds);
    answer.add_lines("{\"pid\":" + json_string(pid_text(l.load->pid)) +
                     ",\"name\":" + json_string(l.load->registered_name) +
                     ",\"message_queue_len\":" + std::to_string(l.load->message_queue_len) +
                     ",\"handled\":" + std::to_string(l.handled) + ",\"handled_per_s\":" + rate +
                     "}");
  }
  send_answer(*Node::of(self), command.reply_to(), answer);
}

}  // namespace

Result<Pid> parse_local_pid(const std::string& text) {
  std::string_view s = text;
  if (s.starts_with('<') && s.ends_with('>')) s = s.substr(1, s.size() - 2);
  uint32_t parts[3] = {};
  const char* at = s.data();
  const char* end = s.data() + s.size();
  for (int i = 0; i < 3; ++i) {
    auto [next, ec] = std::from_chars(at, end, parts[i]);
    bool last = i == 2;
    if (ec != std::errc() || (last ? next != end : (next == end || *next != '.'))) {
      return plexus::Status(plexus::StatusCode::kInvalidArgument,
                            "'" + text + "' is not a pid of this node (<0.index.serial>)");
    }
    at = last ? next : next + 1;
  }
  if (parts[0] != 0) {
    return plexus::Status(
        plexus::StatusCode::kInvalidArgument,
        "'" + text + "' is a pid of another node: ask that node (<0.index.serial>)");
  }
  return Pid{0, parts[1], parts[2]};
}

void serve(Node& node, const HubHost& hubs, NodeCommand command) {
  switch (command.op()) {
    case NodeCommand::INFO:
      return send_answer(node, command.reply_to(), info(node, hubs));
    case NodeCommand::METRICS:
      return send_answer(node, command.reply_to(), metrics(node));
    case NodeCommand::PROCESS: {
      Result<Pid> pid = parse_local_pid(command.pid());
      if (!pid.ok()) return send_answer(node, command.reply_to(), failure(pid.status().message()));
      node.runtime().spawn(process, *pid, command.reply_to());
      return;
    }
    case NodeCommand::TOP:
      if (command.top_count() == 0 || command.top_interval_ms() == 0) {
        return send_answer(node, command.reply_to(),
                           failure("top: the count and the interval must be above 0"));
      }
      node.runtime().spawn(top, std::move(command));
      return;
    default:
      return send_answer(node, command.reply_to(), failure("unknown node command"));
  }
}

}  // namespace plexus_node

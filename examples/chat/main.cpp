// plexus-chat: plexus-node with the chat in it. Every flag of plexus-node,
// plus --chat-port and --chat-address: a TCP port where people (nc) and
// bots chat, in rooms and sessions that are hub children on any node of the
// cluster (gateway.h has the line protocol).
#include <charconv>
#include <optional>

#include "chat_hubs.h"
#include "chat_server.h"
#include "daemon.h"
#include "plexus/strategies/replication.h"
#include "room.h"
#include "session.h"

namespace {

using plexus::Result;
using plexus::Status;
using plexus::StatusCode;
using plexus::hub::HubConfig;
using plexus::strategies::Redundancy;
using plexus::strategies::Replication;

// A port from 0 to 65535, or nullopt.
std::optional<uint16_t> parse_port(const std::string& text) {
  unsigned port = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), port);
  if (ec != std::errc() || end != text.data() + text.size() || port > 65535) return std::nullopt;
  return static_cast<uint16_t>(port);
}

Status check_port(const std::string& text) {
  if (parse_port(text)) return Status::OK();
  return Status(StatusCode::kInvalidArgument, "'" + text + "' is not a port from 0 to 65535");
}

std::string value_of(const plexus_node::AppValues& values, std::string_view flag,
                     std::string fallback) {
  auto it = values.find(flag);
  return it == values.end() ? fallback : it->second;
}

// Rooms: two copies, the first active; both are told their mode, so the
// active one knows to serve and a copy that stops being it tells its
// members. Sessions: one copy each.
Result<std::vector<HubConfig>> chat_hubs(const plexus_node::AppValues&) {
  Result<Replication> two =
      Replication::make(2, Redundancy::Model::kActivePassive, Redundancy::Signal::kAll);
  if (!two.ok()) return two.status();
  HubConfig rooms;
  rooms.hub_id = plexus_chat::kRoomsHub;
  rooms.redundancy = std::make_shared<Replication>(*two);
  HubConfig sessions;
  sessions.hub_id = plexus_chat::kSessionsHub;
  return std::vector<HubConfig>{rooms, sessions};
}

}  // namespace

int main(int argc, char** argv) {
  // Lives as long as the daemon, and so as every process that uses it.
  plexus_chat::ChatHubs hubs;
  plexus_node::DaemonApp app;
  app.program = "plexus-chat";
  app.about =
      "A chat on a Plexus cluster: rooms (hub children with two copies, an\n"
      "acknowledged message is on both) and user sessions (hub children), reached\n"
      "from any node's chat port with a line protocol (nc 127.0.0.1 7000; /help).\n"
      "Prints \"CHAT <address>:<port>\" after READY.";
  app.flags = {
      {"--chat-port", "N       the chat's TCP port (0: any free port; default 7000)", check_port},
      {"--chat-address", "IP   the address it binds (default 127.0.0.1)", nullptr}};
  app.register_types = [&hubs](plexus::Node& node) {
    Status rooms = node.register_process<plexus_chat::RoomArgs>(
        "chat_room", [&hubs](plexus::Context self, plexus_chat::RoomArgs args) {
          return plexus_chat::room(self, std::move(args), &hubs);
        });
    if (!rooms.ok()) return rooms;
    return node.register_process<plexus_chat::SessionArgs>("chat_session", plexus_chat::session);
  };
  app.hubs = chat_hubs;
  app.start = [&hubs](plexus::Node& node, const plexus_node::HubHost& host,
                      const plexus_node::AppValues& values) -> Result<plexus_node::AppRunning> {
    // parse_flags checked the port.
    uint16_t port = *parse_port(value_of(values, "--chat-port", "7000"));
    hubs.open(node.runtime(),
              {host.find(plexus_chat::kRoomsHub), host.find(plexus_chat::kSessionsHub)});
    std::string address = value_of(values, "--chat-address", "127.0.0.1");
    auto server = plexus_chat::ChatServer::start(node, &hubs, address, port);
    if (!server.ok()) return server.status();
    plexus_node::AppRunning running;
    running.ready_lines = {"CHAT " + address + ":" + std::to_string((*server)->port())};
    running.keep = std::shared_ptr<plexus_chat::ChatServer>(std::move(*server));
    return running;
  };
  return plexus_node::run_daemon(argc, argv, app);
}

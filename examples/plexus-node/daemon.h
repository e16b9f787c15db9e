// The plexus-node daemon as a library: plexus-node is run_daemon with no
// application; a program with process types and hubs of its own (the chat
// example) is run_daemon with a DaemonApp, and gets every flag, the control
// process, the metrics, the dashboard and the signals of plexus-node.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "flags.h"
#include "hub_control.h"
#include "plexus/hub/hub_config.h"
#include "plexus/node/node.h"
#include "plexus/status.h"

namespace plexus_node {

// What an application runs once its hubs run, until the daemon stops (then
// it is destroyed, before the hubs leave).
struct AppRunning {
  std::shared_ptr<void> keep;
  // Printed on stdout after READY (and HTTP), one a line ("CHAT 127.0.0.1:7000").
  std::vector<std::string> ready_lines;
};

struct DaemonApp {
  // In messages, --help and --version.
  std::string program = "plexus-node";
  // What --help says the program is, one paragraph.
  std::string about;
  std::vector<AppFlag> flags;
  // Registers the application's process types on the node, before any hub
  // starts.
  std::function<plexus::Status(plexus::Node&)> register_types;
  // The application's hubs (besides --hub's), started in this order.
  std::function<plexus::Result<std::vector<plexus::hub::HubConfig>>(const AppValues&)> hubs;
  // Starts the rest of the application, once every hub runs.
  std::function<plexus::Result<AppRunning>(plexus::Node&, const HubHost&, const AppValues&)> start;
};

// Runs the daemon with argv's flags until SIGINT or SIGTERM: the exit code
// of main (0 after a clean stop, --help or --version; 1 if it cannot start;
// 2 for a bad command line).
int run_daemon(int argc, char** argv, const DaemonApp& app = {});

}  // namespace plexus_node

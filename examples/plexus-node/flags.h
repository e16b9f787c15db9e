// The command line of plexus-node.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "plexus/log.h"
#include "plexus/status.h"

namespace plexus_node {

struct Flags {
  std::string name;                // --name name@host:port (port 0: any free port)
  std::vector<std::string> seeds;  // --seeds a@h:p,b@h:p
  std::string cookie;              // --cookie, else $PLEXUS_COOKIE
  plexus::LogLevel log_level = plexus::LogLevel::kInfo;  // --log-level
  std::chrono::milliseconds tick_timeout{60'000};        // --tick-ms
  bool zen = true;                                       // --zen on|off
  std::chrono::milliseconds zen_sweep{100};              // --zen-sweep-ms
  bool help = false;                                     // --help
  bool version = false;                                  // --version
};

// Parses argv[1..argc). `env_cookie` is $PLEXUS_COOKIE (null if unset). A
// flag that is unknown, lacks its value or has a bad one is an error that
// names it.
plexus::Result<Flags> parse_flags(int argc, const char* const* argv, const char* env_cookie);

// What --help prints.
std::string usage();

}  // namespace plexus_node

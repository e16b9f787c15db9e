// The command line of plexusctl.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "plexus/status.h"

namespace plexusctl {

struct Command {
  std::string node;    // --node NAME (else $PLEXUS_NODE): the daemon to drive
  std::string cookie;  // --cookie, else --cookie-file's, else $PLEXUS_COOKIE, else ~/.plexus.cookie
  std::string cookie_file;                   // --cookie-file F (else $PLEXUS_COOKIE_FILE)
  std::string tls_ca, tls_cert, tls_key;     // --tls-ca, --tls-cert, --tls-key
  bool json = false;                         // --json: one JSON object per line
  std::chrono::milliseconds timeout{30000};  // --timeout-ms: for the whole command
  bool help = false;
  bool version = false;  // --version

  // What to do: "info", "metrics", "process", "top", "nodes", "hub", "net"; then
  // its words.
  std::string verb;
  std::string hub;     // hub HUB ...
  std::string action;  // status, start, start-many, stop, lookup, list, call; block, unblock
  std::vector<std::string> words;                // the action's positional arguments
  std::string type;                              // --type T
  std::map<std::string, std::string> meta;       // --meta k=v (repeated)
  bool local = false;                            // --local
  bool top_by_handled = false;                   // top --by handled (else --by queue)
  uint32_t top_count = 10;                       // top --count N
  std::chrono::milliseconds top_interval{1000};  // top --interval-ms: handled over this time
};

// A variable of the environment, or null if unset (std::getenv).
using Environment = std::function<const char*(const char* name)>;

// Parses argv[1..argc), taking from `env` what the command line leaves
// out: $PLEXUS_NODE, $PLEXUS_COOKIE_FILE, $PLEXUS_COOKIE and $HOME (for
// ~/.plexus.cookie). Anything wrong is kInvalidArgument naming it.
plexus::Result<Command> parse(int argc, const char* const* argv, const Environment& env);

std::string usage();

}  // namespace plexusctl

// The command line of plexus-node.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "dns_discovery.h"
#include "hub_settings.h"
#include "plexus/log.h"
#include "plexus/status.h"

namespace plexus_node {

// An application's own flag: `--NAME VALUE`, also read from PLEXUS_NAME and
// from the --config file like every other flag.
struct AppFlag {
  std::string name;  // "--chat-port"
  std::string help;  // its line in --help, after the name
  // OK, or what is wrong with a value (parse_flags names the flag).
  std::function<plexus::Status(const std::string& value)> check;
};

// The values given to an application's flags, by flag name ("--chat-port").
using AppValues = std::map<std::string, std::string, std::less<>>;

struct Flags {
  std::string name;                // --name name@host:port (port 0: any free port)
  std::vector<std::string> seeds;  // --seeds a@h:p,b@h:p
  std::string cookie;              // --cookie, else $PLEXUS_COOKIE
  plexus::LogLevel log_level = plexus::LogLevel::kInfo;     // --log-level
  plexus::LogFormat log_format = plexus::LogFormat::kText;  // --log-format text|json
  std::string log_file;  // --log-file PATH (default: stderr); SIGHUP reopens it
  std::chrono::milliseconds tick_timeout{60'000};      // --tick-ms
  size_t max_frame_size = size_t{64} << 20;            // --max-frame-size BYTES
  size_t max_send_buffer = size_t{64} << 20;           // --max-send-buffer BYTES
  std::chrono::milliseconds handshake_timeout{5'000};  // --handshake-timeout-ms
  size_t max_pending_handshakes = 128;                 // --max-pending-handshakes
  size_t max_pending_handshakes_per_host = 32;         // --max-pending-handshakes-per-host
  std::string tls_ca, tls_cert, tls_key;               // --tls-ca, --tls-cert, --tls-key
  bool zen = true;                                     // --zen on|off
  std::chrono::milliseconds zen_sweep{100};            // --zen-sweep-ms
  std::vector<std::string> hubs;                       // --hub ID (repeated)
  DnsDiscoveryOptions dns;                 // --discover-dns NAME and the --discover-* flags
  int http_port = -1;                      // --http-port N (0: any free port; -1: no HTTP)
  std::string http_address = "127.0.0.1";  // --http-address IP
  HubSettings hub_settings;                // --hub-KEY VALUE, then --hub-config FILE's lines
  AppValues app;                           // an application's flags (DaemonApp)
  bool help = false;                       // --help
  bool version = false;                    // --version
};

// Parses argv[1..argc) with CLI11. Each flag may also come from its
// PLEXUS_* environment variable (--tick-ms: PLEXUS_TICK_MS) or from the
// --config file (TOML or INI: `tick-ms = 1000`, `hub = ["chat"]`); the
// command line wins over the file, the file over the environment. A flag
// that is unknown, lacks its value or has a bad one is an error that names
// it. `app_flags` go into Flags::app, checked by their `check`.
plexus::Result<Flags> parse_flags(int argc, const char* const* argv,
                                  const std::vector<AppFlag>& app_flags = {});

// What --help prints, for `program` with its `about` and `app_flags`.
std::string usage(const std::string& program = "plexus-node", const std::string& about = "",
                  const std::vector<AppFlag>& app_flags = {});

}  // namespace plexus_node

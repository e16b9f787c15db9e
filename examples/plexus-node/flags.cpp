#include "flags.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <charconv>
#include <fstream>
#include <optional>
#include <string_view>

namespace plexus_node {

namespace {

using plexus::Result;
using plexus::Status;
using plexus::StatusCode;

Status bad(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }

std::optional<long> parse_number(std::string_view text) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// "name@host:port" with a port in [min_port, 65535].
bool valid_node_name(std::string_view name, long min_port) {
  size_t at = name.find('@');
  size_t colon = name.rfind(':');
  if (at == 0 || at == std::string_view::npos || colon == std::string_view::npos ||
      colon < at + 2) {
    return false;
  }
  std::optional<long> port = parse_number(name.substr(colon + 1));
  return port && *port >= min_port && *port <= 65535;
}

// Stores the value of one flag; an error says what is wrong with it.
Status apply(Flags& flags, std::string_view flag, const std::string& value) {
  if (flag == "--name") {
    if (!valid_node_name(value, 0)) {
      return bad("--name: '" + value + "' is not name@host:port");
    }
    flags.name = value;
  } else if (flag == "--seeds") {
    flags.seeds.clear();
    size_t start = 0;
    while (start <= value.size()) {
      size_t comma = value.find(',', start);
      if (comma == std::string::npos) comma = value.size();
      std::string seed = value.substr(start, comma - start);
      if (!seed.empty()) {
        if (!valid_node_name(seed, 1)) {
          return bad("--seeds: '" + seed + "' is not name@host:port");
        }
        flags.seeds.push_back(std::move(seed));
      }
      start = comma + 1;
    }
  } else if (flag == "--cookie") {
    if (value.empty()) return bad("--cookie: empty");
    flags.cookie = value;
  } else if (flag == "--log-level") {
    std::optional<plexus::LogLevel> level = plexus::parse_log_level(value);
    if (!level) return bad("--log-level: '" + value + "' is not debug, info, warning or error");
    flags.log_level = *level;
  } else if (flag == "--log-file") {
    if (value.empty()) return bad("--log-file: empty");
    flags.log_file = value;
  } else if (flag == "--log-format") {
    if (value != "text" && value != "json")
      return bad("--log-format: '" + value + "' is not text or json");
    flags.log_format = value == "json" ? plexus::LogFormat::kJson : plexus::LogFormat::kText;
  } else if (flag == "--tick-ms") {
    std::optional<long> ms = parse_number(value);
    if (!ms || *ms < 40) return bad("--tick-ms: '" + value + "' is not a number of ms >= 40");
    flags.tick_timeout = std::chrono::milliseconds(*ms);
  } else if (flag == "--max-frame-size") {
    std::optional<long> n = parse_number(value);
    if (!n || *n < 1024 || *n > (long{1} << 31)) {
      return bad("--max-frame-size: '" + value + "' is not a number of bytes from 1024 to 2^31");
    }
    flags.max_frame_size = static_cast<size_t>(*n);
  } else if (flag == "--max-send-buffer") {
    std::optional<long> n = parse_number(value);
    if (!n || *n < 1024) return bad("--max-send-buffer: '" + value + "' is not a number >= 1024");
    flags.max_send_buffer = static_cast<size_t>(*n);
  } else if (flag == "--handshake-timeout-ms") {
    std::optional<long> ms = parse_number(value);
    if (!ms || *ms < 1) return bad("--handshake-timeout-ms: '" + value + "' is not a number >= 1");
    flags.handshake_timeout = std::chrono::milliseconds(*ms);
  } else if (flag == "--max-pending-handshakes" || flag == "--max-pending-handshakes-per-host") {
    std::optional<long> n = parse_number(value);
    if (!n || *n < 1) return bad(std::string(flag) + ": '" + value + "' is not a number >= 1");
    (flag == "--max-pending-handshakes" ? flags.max_pending_handshakes
                                        : flags.max_pending_handshakes_per_host) =
        static_cast<size_t>(*n);
  } else if (flag == "--tls-ca" || flag == "--tls-cert" || flag == "--tls-key") {
    if (value.empty()) return bad(std::string(flag) + ": empty");
    (flag == "--tls-ca"     ? flags.tls_ca
     : flag == "--tls-cert" ? flags.tls_cert
                            : flags.tls_key) = value;
  } else if (flag == "--zen") {
    if (value != "on" && value != "off") return bad("--zen: '" + value + "' is not on or off");
    flags.zen = value == "on";
  } else if (flag == "--zen-sweep-ms") {
    std::optional<long> ms = parse_number(value);
    if (!ms || *ms < 1) return bad("--zen-sweep-ms: '" + value + "' is not a number of ms >= 1");
    flags.zen_sweep = std::chrono::milliseconds(*ms);
  } else if (flag == "--discover-dns") {
    if (value.empty()) return bad("--discover-dns: empty");
    flags.dns.name = value;
  } else if (flag == "--discover-dns-type") {
    if (value != "a" && value != "srv")
      return bad("--discover-dns-type: '" + value + "' is not a or srv");
    flags.dns.srv = value == "srv";
  } else if (flag == "--discover-node-base") {
    if (value.empty() || value.find('@') != std::string::npos) {
      return bad("--discover-node-base: '" + value + "' is not a node name's base");
    }
    flags.dns.node_base = value;
  } else if (flag == "--discover-port") {
    std::optional<long> port = parse_number(value);
    if (!port || *port < 1 || *port > 65535) {
      return bad("--discover-port: '" + value + "' is not a port from 1 to 65535");
    }
    flags.dns.port = static_cast<uint16_t>(*port);
  } else if (flag == "--discover-dns-server") {
    if (value.empty()) return bad("--discover-dns-server: empty");
    flags.dns.server = value;
  } else if (flag == "--discover-interval-ms") {
    std::optional<long> ms = parse_number(value);
    if (!ms || *ms < 10)
      return bad("--discover-interval-ms: '" + value + "' is not a number of ms >= 10");
    flags.dns.interval = std::chrono::milliseconds(*ms);
  } else if (flag == "--http-port") {
    std::optional<long> port = parse_number(value);
    if (!port || *port < 0 || *port > 65535) {
      return bad("--http-port: '" + value + "' is not a port from 0 to 65535");
    }
    flags.http_port = static_cast<int>(*port);
  } else if (flag == "--http-address") {
    if (value.empty()) return bad("--http-address: empty");
    flags.http_address = value;
  } else if (flag == "--hub") {
    if (value.empty()) return bad("--hub: empty");
    flags.hubs.push_back(value);
  } else if (flag == "--hub-config") {
    return read_hub_config(value, &flags.hub_settings);
  } else if (flag.starts_with("--hub-") && is_hub_setting(std::string(flag.substr(6)))) {
    // A flag wins over a file line, whichever comes first.
    flags.hub_settings[std::string(flag.substr(6))] = value;
  } else {
    return bad("unknown flag '" + std::string(flag) + "'");
  }
  return Status::OK();
}

// "--hub-sync-ms" -> "PLEXUS_HUB_SYNC_MS".
std::string env_name(std::string_view flag) {
  std::string out = "PLEXUS_";
  for (char c : flag.substr(2)) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

// The cookie in `path`: its first line, trimmed. Like Erlang's
// ~/.erlang.cookie, a file others may read is refused.
Status read_cookie_file(const std::string& path, std::string* cookie) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return bad("--cookie-file: cannot read '" + path + "'");
  if ((st.st_mode & 077) != 0) {
    return bad("--cookie-file: '" + path + "' may be read by others (chmod 600 it)");
  }
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line)) return bad("--cookie-file: '" + path + "' is empty");
  size_t end = line.find_last_not_of(" \t\r");
  line.resize(end == std::string::npos ? 0 : end + 1);
  if (line.empty()) return bad("--cookie-file: '" + path + "' is empty");
  *cookie = std::move(line);
  return Status::OK();
}

}  // namespace

Result<Flags> parse_flags(int argc, const char* const* argv) {
  Flags flags;
  CLI::App app("plexus-node");
  // usage() is the help; unknown words are reported below, in our words.
  app.set_help_flag();
  app.allow_extras();
  // A key of the --config file that is no flag is a typo to report.
  app.allow_config_extras(CLI::config_extras_mode::error);
  app.add_flag("--help,-h", flags.help);
  app.add_flag("--version", flags.version);
  app.set_config("--config", "", "flags from a file")->envname("PLEXUS_CONFIG");
  std::string cookie_file;
  app.add_option("--cookie-file", cookie_file)->envname("PLEXUS_COOKIE_FILE");
  // Every other flag takes one value, checked by apply(); each is also read
  // from its PLEXUS_* variable and from the --config file.
  Status first_error = Status::OK();
  auto value_flag = [&](std::string flag, bool repeated = false) {
    CLI::Option* option = app.add_option_function<std::vector<std::string>>(
        flag, [&flags, &first_error, flag](const std::vector<std::string>& values) {
          for (const std::string& value : values) {
            Status status = apply(flags, flag, value);
            if (!status.ok() && first_error.ok()) first_error = status;
          }
        });
    option->envname(env_name(flag))->type_size(1)->allow_extra_args(false);
    if (repeated) {
      option->delimiter(',');  // PLEXUS_HUB=chat,rooms; the config file's lists
    } else {
      option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }
  };
  for (const char* flag : {"--name",
                           "--seeds",
                           "--cookie",
                           "--log-level",
                           "--log-format",
                           "--log-file",
                           "--tick-ms",
                           "--max-frame-size",
                           "--max-send-buffer",
                           "--handshake-timeout-ms",
                           "--max-pending-handshakes",
                           "--max-pending-handshakes-per-host",
                           "--tls-ca",
                           "--tls-cert",
                           "--tls-key",
                           "--zen",
                           "--zen-sweep-ms",
                           "--http-port",
                           "--http-address",
                           "--hub-config",
                           "--discover-dns",
                           "--discover-dns-type",
                           "--discover-node-base",
                           "--discover-port",
                           "--discover-dns-server",
                           "--discover-interval-ms"}) {
    value_flag(flag);
  }
  value_flag("--hub", /*repeated=*/true);
  for (const std::string& key : hub_setting_keys()) value_flag("--hub-" + key);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ArgumentMismatch& e) {
    // "--name: 1 required TEXT missing"
    std::string what = e.what();
    return bad(what.substr(0, what.find(':')) + ": missing value");
  } catch (const CLI::ParseError& e) {
    return bad(e.what());
  }
  if (flags.help || flags.version) return flags;
  for (const std::string& extra : app.remaining()) {
    return bad(extra.starts_with("-") ? "unknown flag '" + extra + "'"
                                      : "unexpected argument '" + extra + "'");
  }
  if (!first_error.ok()) return first_error;
  if (flags.name.empty()) return bad("--name is required");
  if (!cookie_file.empty() && flags.cookie.empty()) {
    if (Status read = read_cookie_file(cookie_file, &flags.cookie); !read.ok()) return read;
  }
  if (flags.cookie.empty()) {
    return bad("no cookie: pass --cookie or --cookie-file, or set PLEXUS_COOKIE");
  }
  bool some_tls = !flags.tls_ca.empty() || !flags.tls_cert.empty() || !flags.tls_key.empty();
  bool all_tls = !flags.tls_ca.empty() && !flags.tls_cert.empty() && !flags.tls_key.empty();
  if (some_tls && !all_tls) return bad("TLS needs all of --tls-ca, --tls-cert and --tls-key");
  if (!flags.dns.name.empty() && !flags.dns.srv && flags.dns.port == 0) {
    return bad("--discover-dns with A records needs --discover-port");
  }
  for (const std::string& id : flags.hubs) {
    Result<plexus::hub::HubConfig> config = hub_config(id, flags.hub_settings);
    if (!config.ok()) return config.status();
  }
  return flags;
}

std::string usage() {
  return "Usage: plexus-node --name name@host:port [options]\n"
         "\n"
         "Runs one Plexus node until SIGINT or SIGTERM. Prints\n"
         "  READY <node name> <creation>\n"
         "on stdout once it listens (with port 0, the name has the port chosen).\n"
         "\n"
         "Options:\n"
         "  --name name@host:port   this node's name and listening address (required)\n"
         "  --seeds a@h:p,b@h:p     nodes to join (retried until they answer)\n"
         "  --cookie SECRET         the cluster's cookie (visible in ps: prefer the next)\n"
         "  --cookie-file PATH      the cookie: the file's first line; a file that others\n"
         "                          may read is refused\n"
         "  --log-level LEVEL       debug, info, warning or error (default: info)\n"
         "  --log-format FORMAT     text (UTC time, level, node, message) or json (one\n"
         "                          object a line) (default: text)\n"
         "  --log-file PATH         append the log to PATH, reopened on SIGHUP (default:\n"
         "                          stderr)\n"
         "  --tick-ms N             a peer silent for N ms is down (default: 60000)\n"
         "  --handshake-timeout-ms N  a connection's handshake must be done in N ms (5000)\n"
         "  --max-frame-size BYTES  frames above it close the connection (67108864)\n"
         "  --max-send-buffer BYTES bytes queued for one peer at most (67108864)\n"
         "  --max-pending-handshakes N           incoming handshakes at once (128)\n"
         "  --max-pending-handshakes-per-host N  from one host (32)\n"
         "  --tls-ca FILE --tls-cert FILE --tls-key FILE   mutual TLS (PEM)\n"
         "  --discover-dns NAME     join the nodes NAME's DNS records give, polled (a\n"
         "                          Kubernetes headless service): A records give\n"
         "                          BASE@IP:PORT, SRV records BASE@TARGET:THEIR-PORT\n"
         "  --discover-dns-type a|srv   which records (default: a)\n"
         "  --discover-node-base BASE   the names' part before '@' (default: plexus)\n"
         "  --discover-port N       every node's port, with A records\n"
         "  --discover-dns-server IP[:PORT]  ask this server (default: /etc/resolv.conf)\n"
         "  --discover-interval-ms N    poll every N ms (default: 5000)\n"
         "  --zen on|off            run the zen monitor (default: on)\n"
         "  --zen-sweep-ms N        its connector and batcher sweep interval (default: 100)\n"
         "  --http-port N           serve /metrics, /healthz and /readyz on port N (0: any\n"
         "                          free port); prints \"HTTP <address>:<port>\" after READY\n"
         "  --http-address IP       the address it binds (default: 127.0.0.1)\n"
         "  --config FILE           flags from a TOML or INI file: one `flag = value` a line,\n"
         "                          without the dashes (tick-ms = 1000, hub = [\"chat\"])\n"
         "  --version               print the version and exit\n"
         "  --help                  this text\n"
         "\n"
         "Every flag may also be set by its PLEXUS_* environment variable: --tick-ms by\n"
         "PLEXUS_TICK_MS, --hub-sync-ms by PLEXUS_HUB_SYNC_MS, --hub by PLEXUS_HUB=a,b. The\n"
         "command line wins over --config (PLEXUS_CONFIG), which wins over the environment.\n"
         "\n"
         "Hubs (children by ID across the nodes that host the same hub):\n" +
         std::string(hub_settings_usage()) +
         "\n"
         "Process types other nodes may spawn here: echo, exiter, linker, monitorer,\n"
         "counter (the hubs' demo worker);\n"
         "a process registered as \"control\" answers NodeInfoRequest, SendExit and\n"
         "plexusctl (see node_control.proto).\n";
}

}  // namespace plexus_node

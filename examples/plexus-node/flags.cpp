#include "flags.h"

#include <sys/stat.h>

#include <CLI/CLI.hpp>
#include <cctype>
#include <charconv>
#include <climits>
#include <fstream>
#include <functional>
#include <optional>
#include <string_view>

#include "cookie_file.h"

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

// Stores one value of a flag in `flags`; an error says what is wrong with
// it (the caller prefixes the flag's name).
using Setter = std::function<Status(Flags& flags, const std::string& value)>;

Status bad_value(const std::string& value, const std::string& what) {
  return bad("'" + value + "' is not " + what);
}

// A number from `min` to `max`, given to `set`.
template <class Set>
Setter number(long min, long max, std::string what, Set set) {
  return [=](Flags& flags, const std::string& value) {
    std::optional<long> n = parse_number(value);
    if (!n || *n < min || *n > max) return bad_value(value, what);
    set(flags, *n);
    return Status::OK();
  };
}

// A non-empty string.
Setter text(std::string Flags::*field) {
  return [field](Flags& flags, const std::string& value) {
    if (value.empty()) return bad("empty");
    flags.*field = value;
    return Status::OK();
  };
}

template <class T>
Setter milliseconds(long min, T Flags::*field) {
  return number(min, LONG_MAX, "a number of ms >= " + std::to_string(min),
                [field](Flags& f, long n) { f.*field = std::chrono::milliseconds(n); });
}

// Every flag that takes a value, in the order --help lists them: each is
// also read from its PLEXUS_* variable and from the --config file.
const std::vector<std::pair<std::string, Setter>>& value_flags() {
  static const auto* table = new std::vector<std::pair<std::string, Setter>>{
      {"--name",
       [](Flags& f, const std::string& v) {
         if (!valid_node_name(v, 0)) return bad_value(v, "name@host:port");
         f.name = v;
         return Status::OK();
       }},
      {"--seeds",
       [](Flags& f, const std::string& v) {
         f.seeds.clear();
         for (size_t start = 0; start <= v.size();) {
           size_t comma = std::min(v.find(',', start), v.size());
           std::string seed = v.substr(start, comma - start);
           if (!seed.empty()) {
             if (!valid_node_name(seed, 1)) return bad_value(seed, "name@host:port");
             f.seeds.push_back(std::move(seed));
           }
           start = comma + 1;
         }
         return Status::OK();
       }},
      {"--cookie", text(&Flags::cookie)},
      {"--log-level",
       [](Flags& f, const std::string& v) {
         std::optional<plexus::LogLevel> level = plexus::parse_log_level(v);
         if (!level) return bad_value(v, "debug, info, warning or error");
         f.log_level = *level;
         return Status::OK();
       }},
      {"--log-format",
       [](Flags& f, const std::string& v) {
         if (v != "text" && v != "json") return bad_value(v, "text or json");
         f.log_format = v == "json" ? plexus::LogFormat::kJson : plexus::LogFormat::kText;
         return Status::OK();
       }},
      {"--log-file", text(&Flags::log_file)},
      {"--tick-ms", milliseconds(40, &Flags::tick_timeout)},
      {"--handshake-timeout-ms", milliseconds(1, &Flags::handshake_timeout)},
      {"--max-frame-size", number(1024, long{1} << 31, "a number of bytes from 1024 to 2^31",
                                  [](Flags& f, long n) { f.max_frame_size = size_t(n); })},
      {"--max-send-buffer", number(1024, LONG_MAX, "a number >= 1024",
                                   [](Flags& f, long n) { f.max_send_buffer = size_t(n); })},
      {"--max-pending-handshakes",
       number(1, LONG_MAX, "a number >= 1",
              [](Flags& f, long n) { f.max_pending_handshakes = size_t(n); })},
      {"--max-pending-handshakes-per-host",
       number(1, LONG_MAX, "a number >= 1",
              [](Flags& f, long n) { f.max_pending_handshakes_per_host = size_t(n); })},
      {"--tls-ca", text(&Flags::tls_ca)},
      {"--tls-cert", text(&Flags::tls_cert)},
      {"--tls-key", text(&Flags::tls_key)},
      {"--zen",
       [](Flags& f, const std::string& v) {
         if (v != "on" && v != "off") return bad_value(v, "on or off");
         f.zen = v == "on";
         return Status::OK();
       }},
      {"--zen-sweep-ms", milliseconds(1, &Flags::zen_sweep)},
      {"--http-port", number(0, 65535, "a port from 0 to 65535",
                             [](Flags& f, long n) { f.http_port = int(n); })},
      {"--http-address", text(&Flags::http_address)},
      {"--discover-dns",
       [](Flags& f, const std::string& v) {
         if (v.empty()) return bad("empty");
         f.dns.name = v;
         return Status::OK();
       }},
      {"--discover-dns-type",
       [](Flags& f, const std::string& v) {
         if (v != "a" && v != "srv") return bad_value(v, "a or srv");
         f.dns.srv = v == "srv";
         return Status::OK();
       }},
      {"--discover-node-base",
       [](Flags& f, const std::string& v) {
         if (v.empty() || v.find('@') != std::string::npos) {
           return bad_value(v, "a node name's base");
         }
         f.dns.node_base = v;
         return Status::OK();
       }},
      {"--discover-port", number(1, 65535, "a port from 1 to 65535",
                                 [](Flags& f, long n) { f.dns.port = uint16_t(n); })},
      {"--discover-dns-server",
       [](Flags& f, const std::string& v) {
         if (v.empty()) return bad("empty");
         f.dns.server = v;
         return Status::OK();
       }},
      {"--discover-interval-ms",
       number(10, LONG_MAX, "a number of ms >= 10",
              [](Flags& f, long n) { f.dns.interval = std::chrono::milliseconds(n); })},
      {"--hub",
       [](Flags& f, const std::string& v) {
         if (v.empty()) return bad("empty");
         f.hubs.push_back(v);
         return Status::OK();
       }},
      {"--hub-config",
       [](Flags& f, const std::string& v) {
         return read_hub_config(v, &f.hub_settings);
       }},
  };
  return *table;
}

// --hub-KEY VALUE: a flag wins over a --hub-config line, whichever comes
// first.
Setter hub_setting(std::string key) {
  return [key](Flags& f, const std::string& v) {
    f.hub_settings[key] = v;
    return Status::OK();
  };
}

// "--hub-sync-ms" -> "PLEXUS_HUB_SYNC_MS".
std::string env_name(std::string_view flag) {
  std::string out = "PLEXUS_";
  for (char c : flag.substr(2)) out += c == '-' ? '_' : static_cast<char>(std::toupper(c));
  return out;
}

}  // namespace

Result<Flags> parse_flags(int argc, const char* const* argv,
                          const std::vector<AppFlag>& app_flags) {
  Flags flags;
  CLI::App app;
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
  // Every other flag takes one value, checked by its setter; each is also
  // read from its PLEXUS_* variable and from the --config file.
  Status first_error = Status::OK();
  auto value_flag = [&](const std::string& flag, Setter set) {
    CLI::Option* option = app.add_option_function<std::vector<std::string>>(
        flag, [&flags, &first_error, flag, set](const std::vector<std::string>& values) {
          for (const std::string& value : values) {
            Status status = set(flags, value);
            if (!status.ok() && first_error.ok()) first_error = bad(flag + ": " + status.message());
          }
        });
    option->envname(env_name(flag))->type_size(1)->allow_extra_args(false);
    if (flag == "--hub") {
      option->delimiter(',');  // PLEXUS_HUB=chat,rooms; the config file's lists
    } else {
      option->multi_option_policy(CLI::MultiOptionPolicy::TakeLast);
    }
  };
  for (const auto& [flag, set] : value_flags()) value_flag(flag, set);
  for (const std::string& key : hub_setting_keys()) value_flag("--hub-" + key, hub_setting(key));
  for (const AppFlag& flag : app_flags) {
    value_flag(flag.name, [flag](Flags& f, const std::string& v) {
      if (flag.check) {
        if (Status valid = flag.check(v); !valid.ok()) return valid;
      }
      f.app[flag.name] = v;
      return Status::OK();
    });
  }
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
  if (!flags.dns.name.empty()) {
    if (Status valid = flags.dns.validate(); !valid.ok()) return valid;
  }
  for (const std::string& id : flags.hubs) {
    Result<plexus::hub::HubConfig> config = hub_config(id, flags.hub_settings);
    if (!config.ok()) return config.status();
    if (Status fits = plexus::hub::validate(*config, flags.tick_timeout); !fits.ok()) {
      return bad("--hub " + id + ": " + fits.message());
    }
  }
  return flags;
}

std::string usage(const std::string& program, const std::string& about,
                  const std::vector<AppFlag>& app_flags) {
  std::string app_usage;
  if (!about.empty()) app_usage = about + "\n\n";
  if (!app_flags.empty()) {
    app_usage += program + "'s own options:\n";
    for (const AppFlag& flag : app_flags) app_usage += "  " + flag.name + " " + flag.help + "\n";
    app_usage += "\n";
  }
  return "Usage: " + program +
         " --name name@host:port [options]\n"
         "\n" +
         app_usage +
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

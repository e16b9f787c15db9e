#include "ctl_flags.h"

#include <sys/stat.h>

#include <charconv>
#include <set>
#include <string_view>

#include "cookie_file.h"

namespace plexusctl {

namespace {

using plexus::Result;
using plexus::Status;
using plexus::StatusCode;

Status bad(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }

bool is_count(const std::string& s) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), n);
  return ec == std::errc() && end == s.data() + s.size();
}

// How many positional words each action takes: {min, max}.
const std::map<std::string, std::pair<size_t, size_t>>& hub_actions() {
  static const auto* table = new std::map<std::string, std::pair<size_t, size_t>>{
      {"status", {0, 0}}, {"start", {1, 1}},  {"start-many", {2, 2}},
      {"stop", {1, 1}},   {"lookup", {1, 1}}, {"list", {0, 0}},
      {"call", {2, 2}},   {"drain", {0, 0}},  {"resize", {1, 1}}};
  return *table;
}

}  // namespace

Result<Command> parse(int argc, const char* const* argv, const Environment& env) {
  auto from_env = [&](const char* name) -> std::string {
    const char* v = env(name);
    return v ? v : "";
  };
  Command c;
  std::vector<std::string> positional;
  static const std::set<std::string_view> with_value = {
      "--node", "--cookie", "--cookie-file", "--tls-ca", "--tls-cert",    "--tls-key",
      "--type", "--meta",   "--by",          "--count",  "--interval-ms", "--timeout-ms"};
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      c.help = true;
      return c;
    }
    if (arg == "--version") {
      c.version = true;
      return c;
    }
    if (arg == "--json") {
      c.json = true;
      continue;
    }
    if (arg == "--local") {
      c.local = true;
      continue;
    }
    if (!arg.starts_with("--")) {
      positional.emplace_back(arg);
      continue;
    }
    std::string_view flag = arg;
    std::string value;
    if (size_t eq = arg.find('='); eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = std::string(arg.substr(eq + 1));
    } else if (with_value.count(flag) && i + 1 < argc) {
      value = argv[++i];
    } else if (with_value.count(flag)) {
      return bad(std::string(flag) + ": missing value");
    }
    if (!with_value.count(flag)) return bad("unknown flag '" + std::string(flag) + "'");
    if (value.empty()) return bad(std::string(flag) + ": empty");
    if (flag == "--node") {
      c.node = value;
    } else if (flag == "--cookie") {
      c.cookie = value;
    } else if (flag == "--cookie-file") {
      c.cookie_file = value;
    } else if (flag == "--tls-ca") {
      c.tls_ca = value;
    } else if (flag == "--tls-cert") {
      c.tls_cert = value;
    } else if (flag == "--tls-key") {
      c.tls_key = value;
    } else if (flag == "--timeout-ms") {
      if (!is_count(value) || value == "0") return bad("--timeout-ms: '" + value + "'");
      c.timeout = std::chrono::milliseconds(std::stoll(value));
    } else if (flag == "--type") {
      c.type = value;
    } else if (flag == "--by") {
      if (value != "queue" && value != "handled") {
        return bad("--by: '" + value + "' (queue or handled)");
      }
      c.top_by_handled = value == "handled";
    } else if (flag == "--count") {
      if (!is_count(value) || value == "0" || value.size() > 6) {
        return bad("--count: '" + value + "'");
      }
      c.top_count = static_cast<uint32_t>(std::stoul(value));
    } else if (flag == "--interval-ms") {
      if (!is_count(value) || value == "0" || value.size() > 6) {
        return bad("--interval-ms: '" + value + "'");
      }
      c.top_interval = std::chrono::milliseconds(std::stoll(value));
    } else if (flag == "--meta") {
      size_t eq = value.find('=');
      if (eq == 0 || eq == std::string::npos) return bad("--meta: '" + value + "' is not k=v");
      c.meta[value.substr(0, eq)] = value.substr(eq + 1);
    }
  }
  if (positional.empty()) return bad("no command");
  c.verb = positional[0];
  if (c.verb == "nodes" || c.verb == "info" || c.verb == "metrics" || c.verb == "top") {
    if (positional.size() != 1) return bad(c.verb + " takes no arguments");
  } else if (c.verb == "process") {
    if (positional.size() != 2) return bad("process: expected process PID");
    c.words.assign(positional.begin() + 1, positional.end());
  } else if (c.verb == "hub") {
    if (positional.size() < 3) return bad("hub: expected hub HUB ACTION ...");
    c.hub = positional[1];
    c.action = positional[2];
    c.words.assign(positional.begin() + 3, positional.end());
    auto it = hub_actions().find(c.action);
    if (it == hub_actions().end()) return bad("hub: unknown action '" + c.action + "'");
    if (c.words.size() < it->second.first || c.words.size() > it->second.second) {
      return bad("hub " + c.action + ": wrong number of arguments");
    }
    if ((c.action == "start" || c.action == "start-many") && c.type.empty()) {
      return bad("hub " + c.action + ": --type is required");
    }
    if (c.action == "resize" && (!is_count(c.words[0]) || c.words[0] == "0")) {
      return bad("hub resize: SIZE '" + c.words[0] + "' is not a number of 1 or more");
    }
    if (c.action == "start-many" && !is_count(c.words[1])) {
      return bad("hub start-many: COUNT '" + c.words[1] + "' is not a number");
    }
    if (c.action == "call" && c.words[1] != "get" && c.words[1] != "incr") {
      return bad("hub call: MSG is get or incr, not '" + c.words[1] + "'");
    }
  } else if (c.verb == "net") {
    if (positional.size() < 2) return bad("net: expected block PEER... or unblock [PEER...]");
    c.action = positional[1];
    c.words.assign(positional.begin() + 2, positional.end());
    if (c.action != "block" && c.action != "unblock") {
      return bad("net: unknown action '" + c.action + "'");
    }
    if (c.action == "block" && c.words.empty()) return bad("net block: no peer");
  } else {
    return bad("unknown command '" + c.verb + "'");
  }
  if (c.node.empty()) c.node = from_env("PLEXUS_NODE");
  if (c.node.empty()) return bad("--node is required (or $PLEXUS_NODE)");
  if (c.verb == "top" && c.top_interval >= c.timeout) {
    return bad("top: --interval-ms must be shorter than --timeout-ms");
  }
  if (c.cookie.empty() && c.cookie_file.empty()) c.cookie_file = from_env("PLEXUS_COOKIE_FILE");
  if (c.cookie.empty() && !c.cookie_file.empty()) {
    if (Status read = plexus_node::read_cookie_file(c.cookie_file, &c.cookie); !read.ok()) {
      return read;
    }
  }
  if (c.cookie.empty()) c.cookie = from_env("PLEXUS_COOKIE");
  const std::string home = from_env("HOME");
  const std::string home_cookie = home.empty() ? "" : home + "/.plexus.cookie";
  struct stat st {};
  if (c.cookie.empty() && !home_cookie.empty() && ::stat(home_cookie.c_str(), &st) == 0) {
    Status read = plexus_node::read_cookie_file(home_cookie, &c.cookie, "~/.plexus.cookie");
    if (!read.ok()) return read;
  }
  if (c.cookie.empty()) {
    return bad(
        "no cookie: pass --cookie or --cookie-file, set PLEXUS_COOKIE or write ~/.plexus.cookie");
  }
  bool some_tls = !c.tls_ca.empty() || !c.tls_cert.empty() || !c.tls_key.empty();
  bool all_tls = !c.tls_ca.empty() && !c.tls_cert.empty() && !c.tls_key.empty();
  if (some_tls && !all_tls) return bad("TLS needs all of --tls-ca, --tls-cert and --tls-key");
  return c;
}

std::string usage() {
  return "Usage: plexusctl --node NAME [options] COMMAND\n"
         "\n"
         "Drives the plexus-node NAME (name@host:port) as a hidden node.\n"
         "\n"
         "Commands:\n"
         "  info                                  node, creation, uptime, processes, peers, hubs\n"
         "  metrics                               NAME's metrics (the Prometheus text of "
         "/metrics)\n"
         "  process PID                           a process of NAME: state, mailbox, links, "
         "monitors\n"
         "  top [--by queue|handled] [--count N] [--interval-ms MS]\n"
         "                                        NAME's N (10) busiest processes: longest\n"
         "                                        mailboxes, or most messages handled in MS "
         "(1000)\n"
         "  nodes                                 one line per member: node, creation, up\n"
         "  hub HUB status                        alive, locked, partitioned, nodes, children\n"
         "  hub HUB start ID --type T [--meta k=v]...   start one child, awaited\n"
         "  hub HUB start-many PREFIX COUNT --type T    start PREFIX0..PREFIX{COUNT-1}\n"
         "  hub HUB stop ID                       stop one child, awaited\n"
         "  hub HUB lookup ID                     where ID runs, and its metadata\n"
         "  hub HUB list [--local]                every child (or those NAME's supervisor runs)\n"
         "  hub HUB call ID get|incr              a message to a counter child, and its reply\n"
         "  hub HUB drain                         NAME leaves hub HUB gracefully (with hot\n"
         "                                        swap its children move off with their state)\n"
         "  hub HUB resize SIZE                   the cluster's size from now on (majority\n"
         "                                        quorum: a planned scale-down)\n"
         "  net block PEER...                     NAME drops and refuses PEERs\n"
         "  net unblock [PEER...]                 ... lets them (or all) back\n"
         "\n"
         "Options:\n"
         "  --node NAME          the daemon (required; else $PLEXUS_NODE)\n"
         "  --cookie SECRET      the cluster's cookie (else --cookie-file, else "
         "$PLEXUS_COOKIE,\n"
         "                       else ~/.plexus.cookie)\n"
         "  --cookie-file F      the cookie, the first line of F (which only its owner may "
         "read;\n"
         "                       else $PLEXUS_COOKIE_FILE)\n"
         "  --tls-ca F --tls-cert F --tls-key F   mutual TLS (PEM)\n"
         "  --json               one JSON object per line\n"
         "  --timeout-ms N       give up after N ms (30000)\n"
         "  --version            print the version and exit\n"
         "\n"
         "A pid prints as <0.index.serial>, as the node beside it names it.\n"
         "Exit codes: 0 done; 1 failed or not found (the reason on stderr); 2 usage.\n";
}

}  // namespace plexusctl

// plexusctl as the multi-process tests run it, and a reader of its --json
// lines.
#pragma once

#include <sys/wait.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

#include "node_process_support.h"

namespace plexus_test {

struct Ctl {
  int code = -1;
  std::vector<std::string> lines;
  std::string err;
};

// Runs plexusctl with `args` against `node` and waits for it.
inline Ctl ctl(const std::string& node, std::vector<std::string> args, bool json = true,
               std::vector<std::string> env = {std::string("PLEXUS_COOKIE=") + kCookie}) {
  std::vector<std::string> argv{kCtlBinary, "--node", node};
  if (json) argv.push_back("--json");
  argv.insert(argv.end(), args.begin(), args.end());
  ChildProcess p(argv, environment_without("PLEXUS_COOKIE", std::move(env)));
  Ctl out;
  while (std::optional<std::string> line = p.read_line(kWait)) {
    if (line->empty()) break;
    out.lines.push_back(*line);
  }
  std::optional<int> status = p.wait(kWait);
  out.code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
  out.err = p.output();
  return out;
}

// The value of "key": in a JSON line ("" if absent); numbers and booleans as
// written, strings without quotes.
inline std::string field(const std::string& line, const std::string& key) {
  size_t at = line.find("\"" + key + "\":");
  if (at == std::string::npos) return "";
  at += key.size() + 3;
  if (line[at] == '"') return line.substr(at + 1, line.find('"', at + 1) - at - 1);
  size_t end = line.find_first_of(",}", at);
  return line.substr(at, end - at);
}

// True if `node`'s hub `hub` answers plexusctl's status, is not locked and
// lists `members` nodes in its view.
inline bool hub_settled_on(const std::string& node, const std::string& hub, size_t members) {
  Ctl s = ctl(node, {"hub", hub, "status"});
  return s.code == 0 && s.lines.size() == 1 && field(s.lines[0], "locked") == "false" &&
         std::count(s.lines[0].begin(), s.lines[0].end(), '@') == static_cast<long>(members);
}

}  // namespace plexus_test

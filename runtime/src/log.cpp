#include "plexus/log.h"

#include <cstdio>
#include <string>

namespace plexus {

const char* log_level_name(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug:
      return "debug";
    case LogLevel::kInfo:
      return "info";
    case LogLevel::kWarning:
      return "warning";
    case LogLevel::kError:
      return "error";
    case LogLevel::kNone:
      return "none";
  }
  return "?";
}

void log_to_stderr(LogLevel level, std::string_view text) {
  // One write per line so that lines from different threads do not interleave.
  std::string line = "[plexus] ";
  line += log_level_name(level);
  line += ": ";
  line += text;
  line += '\n';
  std::fwrite(line.data(), 1, line.size(), stderr);
}

}  // namespace plexus

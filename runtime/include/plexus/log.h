// Logging: one line per event, to a sink the embedding program chooses.
#pragma once

#include <functional>
#include <string_view>

namespace plexus {

enum class LogLevel { kDebug, kInfo, kWarning, kError, kNone };

const char* log_level_name(LogLevel level);

// Receives each log line (without a trailing newline). Called from any
// thread; must be thread-safe.
using LogSink = std::function<void(LogLevel, std::string_view)>;

// The default sink: "[plexus] <level>: <text>" on stderr.
void log_to_stderr(LogLevel level, std::string_view text);

}  // namespace plexus

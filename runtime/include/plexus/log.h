// Logging: one record per event, to a sink the embedding program chooses.
#pragma once

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

namespace plexus {

enum class LogLevel { kDebug, kInfo, kWarning, kError, kNone };

// "debug", "info", "warning", "error", "none", and back.
const char* log_level_name(LogLevel level);
std::optional<LogLevel> parse_log_level(std::string_view name);

// One event, as a sink gets it. The views are valid during the call only.
struct LogRecord {
  std::chrono::system_clock::time_point time;
  LogLevel level;
  std::string_view node;  // the node's name; "" for a runtime that is no node's (yet)
  std::string_view text;  // one line, no trailing newline
};

// Receives each record. Called from any thread; must be thread-safe.
using LogSink = std::function<void(const LogRecord&)>;

enum class LogFormat {
  // 2026-12-02T00:39:17.123Z info a@127.0.0.1:7101: node b@127.0.0.1:7102 up
  kText,
  // {"time":"2026-12-02T00:39:17.123Z","level":"info","node":"a@127.0.0.1:7101","msg":"..."}
  kJson,
};

// `time` in UTC to the millisecond: "2026-12-02T00:39:17.123Z".
std::string utc_timestamp(std::chrono::system_clock::time_point time);

// The record as one line in `format`, without a trailing newline. The time
// is UTC, to the millisecond.
std::string format_log_record(const LogRecord& record, LogFormat format);

// A sink that writes each record to stderr in `format`, one write(2) a line,
// so that lines from different threads never interleave.
LogSink stderr_sink(LogFormat format = LogFormat::kText);

}  // namespace plexus

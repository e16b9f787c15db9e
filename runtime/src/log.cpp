#include "plexus/log.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <ctime>
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

std::optional<LogLevel> parse_log_level(std::string_view name) {
  for (LogLevel level :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError, LogLevel::kNone}) {
    if (name == log_level_name(level)) return level;
  }
  return std::nullopt;
}

namespace {

void append_json_string(std::string& out, std::string_view text) {
  out += '"';
  for (unsigned char c : text) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c == '\n') {
      out += "\\n";
    } else if (c < 0x20) {
      char buffer[8];
      std::snprintf(buffer, sizeof buffer, "\\u%04x", c);
      out += buffer;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
}

}  // namespace

std::string utc_timestamp(std::chrono::system_clock::time_point time) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
  std::time_t seconds = static_cast<std::time_t>(ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  char buffer[32];
  size_t n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(ms % 1000));
  return buffer;
}

std::string format_log_record(const LogRecord& record, LogFormat format) {
  std::string line;
  line.reserve(64 + record.node.size() + record.text.size());
  if (format == LogFormat::kJson) {
    line += "{\"time\":\"";
    line += utc_timestamp(record.time);
    line += "\",\"level\":\"";
    line += log_level_name(record.level);
    line += "\",\"node\":";
    append_json_string(line, record.node);
    line += ",\"msg\":";
    append_json_string(line, record.text);
    line += '}';
  } else {
    line += utc_timestamp(record.time);
    line += ' ';
    line += log_level_name(record.level);
    if (!record.node.empty()) {
      line += ' ';
      line += record.node;
    }
    line += ": ";
    line += record.text;
  }
  return line;
}

LogSink stderr_sink(LogFormat format) {
  return [format](const LogRecord& record) {
    std::string line = format_log_record(record, format);
    line += '\n';
    // One write(2): stdio's buffer could split a long line in two writes.
    for (size_t at = 0; at < line.size();) {
      ssize_t n = ::write(STDERR_FILENO, line.data() + at, line.size() - at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // stderr closed: the line is lost, the node goes on
      at += static_cast<size_t>(n);
    }
  };
}

}  // namespace plexus

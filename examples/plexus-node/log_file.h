// --log-file: the daemon's log lines appended to a file that SIGHUP reopens
// (after logrotate has moved it away), as daemons do.
#pragma once

#include <memory>
#include <string>

#include "plexus/log.h"
#include "plexus/status.h"

namespace plexus_node {

class LogFile : public std::enable_shared_from_this<LogFile> {
 public:
  // Opens `path` for appending (made if missing, mode 0640).
  static plexus::Result<std::shared_ptr<LogFile>> open(std::string path, plexus::LogFormat format);
  ~LogFile();
  LogFile(const LogFile&) = delete;
  LogFile& operator=(const LogFile&) = delete;

  // A sink writing one line per record with one write(2), from any thread.
  plexus::LogSink sink();
  // Opens the path again and swaps the new file in, in one dup2(2): a line
  // being written goes wholly to the old file or wholly to the new one.
  // On an error the old file stays in use.
  plexus::Status reopen();
  const std::string& path() const { return path_; }

 private:
  LogFile(std::string path, plexus::LogFormat format, int fd)
      : path_(std::move(path)), format_(format), fd_(fd) {}
  const std::string path_;
  const plexus::LogFormat format_;
  const int fd_;  // stays the same number; reopen() changes the file behind it
};

}  // namespace plexus_node

#include "log_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace plexus_node {

namespace {

int open_for_append(const std::string& path) {
  return ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
}

plexus::Status cannot_open(const std::string& path) {
  return plexus::Status(plexus::StatusCode::kInvalidArgument,
                        "--log-file: cannot open '" + path + "': " + std::strerror(errno));
}

}  // namespace

plexus::Result<std::shared_ptr<LogFile>> LogFile::open(std::string path, plexus::LogFormat format) {
  int fd = open_for_append(path);
  if (fd < 0) return cannot_open(path);
  return std::shared_ptr<LogFile>(new LogFile(std::move(path), format, fd));
}

LogFile::~LogFile() { ::close(fd_); }

plexus::LogSink LogFile::sink() {
  // The sink keeps the file open as long as a runtime may log to it.
  return [self = shared_from_this()](const plexus::LogRecord& record) {
    std::string line = plexus::format_log_record(record, self->format_);
    line += '\n';
    for (size_t at = 0; at < line.size();) {
      ssize_t n = ::write(self->fd_, line.data() + at, line.size() - at);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;  // a full disk loses the line, not the node
      at += static_cast<size_t>(n);
    }
  };
}

plexus::Status LogFile::reopen() {
  int fd = open_for_append(path_);
  if (fd < 0) return cannot_open(path_);
  int swapped = ::dup2(fd, fd_);
  int error = errno;
  ::close(fd);
  if (swapped < 0) {
    return plexus::Status(plexus::StatusCode::kUnavailable,
                          "--log-file: cannot reopen '" + path_ + "': " + std::strerror(error));
  }
  return plexus::Status::OK();
}

}  // namespace plexus_node

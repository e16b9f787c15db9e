// LineClient: one TCP connection to a chat port, read line by line with
// deadlines (chat-bots and the chat's tests). Plain POSIX: no Plexus.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <charconv>
#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace plexus_chat {

// Use it from one thread at a time.
class LineClient {
 public:
  using Clock = std::chrono::steady_clock;
  using milliseconds = std::chrono::milliseconds;

  ~LineClient() { close(); }

  // To "IPv4:port": false if it cannot.
  bool connect(const std::string& address) {
    close();
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) return false;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    unsigned port = 0;
    const char* digits = address.data() + colon + 1;
    const char* end = address.data() + address.size();
    auto [parsed, ec] = std::from_chars(digits, end, port);
    if (ec != std::errc() || parsed != end || port > 65535) return false;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, address.substr(0, colon).c_str(), &addr.sin_addr) != 1) return false;
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return false;
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      close();
      return false;
    }
    address_ = address;
    return true;
  }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
    buffer_.clear();
  }
  // Sends `line` and a "\n": false if the connection is broken.
  bool send(const std::string& line) {
    if (fd_ < 0) return false;
    std::string out = line + "\n";
    for (size_t sent = 0; sent < out.size();) {
      ssize_t n = ::send(fd_, out.data() + sent, out.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) return false;
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  // The next line, or nullopt at the deadline or when the connection ends
  // (then broken() is true).
  std::optional<std::string> read_line(Clock::time_point deadline) {
    for (;;) {
      size_t end = buffer_.find('\n');
      if (end != std::string::npos) {
        std::string line = buffer_.substr(0, end);
        buffer_.erase(0, end + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<milliseconds>(deadline - Clock::now()).count();
      if (left <= 0 || fd_ < 0) return std::nullopt;
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
      char chunk[4096];
      ssize_t n = ::recv(fd_, chunk, sizeof chunk, 0);
      if (n <= 0) {
        close();
        return std::nullopt;
      }
      buffer_.append(chunk, static_cast<size_t>(n));
    }
  }
  // Skips lines until one starts with one of `prefixes`: it, or nullopt.
  std::optional<std::string> expect(const std::vector<std::string>& prefixes,
                                    milliseconds timeout) {
    Clock::time_point deadline = Clock::now() + timeout;
    while (std::optional<std::string> line = read_line(deadline)) {
      for (const std::string& p : prefixes) {
        if (line->starts_with(p)) return line;
      }
    }
    return std::nullopt;
  }
  bool broken() const { return fd_ < 0; }
  const std::string& address() const { return address_; }

 private:
  int fd_ = -1;
  std::string buffer_;
  std::string address_;
};

}  // namespace plexus_chat

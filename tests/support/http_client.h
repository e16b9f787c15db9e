// A blocking HTTP/1.1 client for tests: one request on a new connection to
// 127.0.0.1, read until the server closes it.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <thread>

namespace plexus_test {

struct HttpReply {
  int status = 0;
  std::string head;  // the status line and headers
  std::string body;

  // A header's value (names compared without case), or nothing.
  std::optional<std::string> header(std::string_view name) const {
    size_t at = 0;
    while ((at = head.find("\r\n", at)) != std::string::npos) {
      at += 2;
      size_t colon = head.find(':', at);
      size_t end = head.find("\r\n", at);
      if (colon == std::string::npos || colon > end) continue;
      std::string key = head.substr(at, colon - at);
      if (key.size() == name.size() &&
          std::equal(key.begin(), key.end(), name.begin(),
                     [](char a, char b) { return std::tolower(a) == std::tolower(b); })) {
        size_t value = head.find_first_not_of(' ', colon + 1);
        return head.substr(value, end - value);
      }
    }
    return std::nullopt;
  }
};

// Sends `request` as is (a whole request, "\r\n\r\n" included) to
// 127.0.0.1:`port` and reads the reply until the server closes or `timeout`
// passes; nothing if the connection fails or no whole reply came.
inline std::optional<HttpReply> http_exchange(
    uint16_t port, const std::string& request,
    std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return std::nullopt;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return std::nullopt;
  }
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) continue;
    char chunk[16 * 1024];
    ssize_t n = ::recv(fd, chunk, sizeof chunk, 0);
    if (n <= 0) break;
    got.append(chunk, static_cast<size_t>(n));
  }
  ::close(fd);
  size_t split = got.find("\r\n\r\n");
  if (split == std::string::npos || got.compare(0, 9, "HTTP/1.1 ") != 0) return std::nullopt;
  HttpReply reply;
  reply.status = std::stoi(got.substr(9, 3));
  reply.head = got.substr(0, split + 2);
  reply.body = got.substr(split + 4);
  return reply;
}

// GET `path` with "Connection: close".
inline std::optional<HttpReply> http_get(uint16_t port, const std::string& path,
                                         const std::string& method = "GET") {
  return http_exchange(
      port, method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
}

// GETs `path` every 20 ms until `done(reply)` holds for a reply, and returns
// that reply; nothing if `timeout` passes first.
inline std::optional<HttpReply> http_poll(
    uint16_t port, const std::string& path, const std::function<bool(const HttpReply&)>& done,
    std::chrono::milliseconds timeout = std::chrono::seconds(20)) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::optional<HttpReply> reply = http_get(port, path);
    if (reply && done(*reply)) return reply;
    if (std::chrono::steady_clock::now() > deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace plexus_test

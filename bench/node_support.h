// Helpers of the benchmarks that run nodes: node options, and node b in a
// forked child for the benchmarks where it must crash.
#pragma once

#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>

#include "bench_support.h"
#include "plexus/node/node.h"

namespace plexus::bench {

using namespace std::chrono_literals;

inline constexpr char kCookie[] = "plexus-bench-cookie";

inline unsigned node_schedulers() {
  if (const char* env = std::getenv("PLEXUS_BENCH_NODE_SCHEDULERS")) {
    int n = std::atoi(env);
    if (n > 0) return static_cast<unsigned>(n);
  }
  return 1;
}

// `base` on a free port of 127.0.0.1, or `base` itself if it is a whole
// name ("name@host:port": a node started again where it was).
inline NodeOptions node_options(const std::string& base) {
  NodeOptions options;
  options.name = base.find('@') == std::string::npos ? base + "@127.0.0.1:0" : base;
  options.cookie = kCookie;
  options.runtime.schedulers = node_schedulers();
  options.runtime.log_level = LogLevel::kError;
  return options;
}

inline std::unique_ptr<Node> start_node(const std::string& base) {
  auto node = Node::start(node_options(base));
  if (!node.ok()) return nullptr;
  return std::move(*node);
}

// Reads the child's name line; empty on failure or after 30 s.
inline std::string read_line(int fd) {
  std::string line;
  auto deadline = Clock::now() + 30s;
  while (Clock::now() < deadline) {
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, 100) <= 0) continue;
    char c;
    ssize_t n = read(fd, &c, 1);
    if (n <= 0) return {};
    if (c == '\n') return line;
    line += c;
  }
  return {};
}

inline size_t thread_count() {
  size_t n = 0;
  for (auto& entry : std::filesystem::directory_iterator("/proc/self/task")) {
    (void)entry;
    ++n;
  }
  return n;
}

// A node in a forked child: `run(fd)` starts it, writes its name and a
// newline to fd, and never returns (the child is killed with SIGKILL).
// fork() is only safe while this process has one thread, so the nodes of
// earlier runs must be gone. pid is -1 and name empty on failure.
struct ForkedNode {
  pid_t pid = -1;
  std::string name;

  void kill_and_reap() {
    if (pid <= 0) return;
    ::kill(pid, SIGKILL);
    waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

template <class Run>
ForkedNode fork_node(Run run) {
  ForkedNode node;
  if (thread_count() != 1) return node;
  int fds[2];
  if (pipe(fds) != 0) return node;
  pid_t child = fork();
  if (child == 0) {
    close(fds[0]);
    run(fds[1]);
    _exit(1);
  }
  close(fds[1]);
  node.pid = child;
  node.name = child > 0 ? read_line(fds[0]) : std::string();
  close(fds[0]);
  if (node.name.empty()) node.kill_and_reap();
  return node;
}

// In the child: says `name` on `fd` (the parent's read_line).
inline bool announce(int fd, const std::string& name) {
  std::string line = name + "\n";
  bool ok = write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size());
  close(fd);
  return ok;
}

}  // namespace plexus::bench

// Helpers for the tests that run nodes as separate OS processes: a child
// process that cannot outlive the test, and plexus-node daemons on 127.0.0.1.
#pragma once

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "node_control.pb.h"
#include "node_test_support.h"

extern char** environ;

namespace plexus_test {

// The daemon (examples/plexus-node) and plexusctl, where the test binary
// was built with them; null otherwise.
#ifdef PLEXUS_NODE_BINARY
inline constexpr const char* kNodeBinary = PLEXUS_NODE_BINARY;
#else
inline constexpr const char* kNodeBinary = nullptr;
#endif
#ifdef PLEXUS_CTL_BINARY
inline constexpr const char* kCtlBinary = PLEXUS_CTL_BINARY;
#else
inline constexpr const char* kCtlBinary = nullptr;
#endif

// "[a, b, c]", for test messages.
inline std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const std::string& s : items) out += (out.empty() ? "" : ", ") + s;
  return "[" + out + "]";
}

// This process's environment without the variable `name`, plus `extra`
// ("NAME=value" entries, which replace any variable of the same name).
inline std::vector<std::string> environment_without(const std::string& name,
                                                    std::vector<std::string> extra = {}) {
  auto is = [](const std::string& entry, const std::string& var) {
    return entry.compare(0, var.size() + 1, var + "=") == 0;
  };
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    std::string entry(*e);
    bool replaced = std::any_of(extra.begin(), extra.end(), [&](const std::string& x) {
      return is(entry, x.substr(0, x.find('=')));
    });
    if (!is(entry, name) && !replaced) env.push_back(std::move(entry));
  }
  for (std::string& e : extra) env.push_back(std::move(e));
  return env;
}

// A child process running argv[0] with `argv` and `env`. Its stdout is a pipe
// that read_line() reads; its stderr goes to an unlinked temporary file that
// output() reads. Destroying it kills (SIGKILL) and reaps the child; if this
// test process dies first, the kernel kills the child (PR_SET_PDEATHSIG), so
// no child outlives the test either way.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env) {
    // Everything the child needs is prepared before fork(): between fork and
    // exec, a child of a threaded process may only make async-signal-safe calls.
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    std::vector<char*> envp;
    for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);

    char stderr_path[] = "/tmp/plexus-node-stderr-XXXXXX";
    stderr_fd_ = mkostemp(stderr_path, O_CLOEXEC);
    if (stderr_fd_ < 0) throw std::runtime_error(std::string("mkostemp: ") + strerror(errno));
    unlink(stderr_path);
    int out[2];
    if (pipe2(out, O_CLOEXEC) != 0)
      throw std::runtime_error(std::string("pipe2: ") + strerror(errno));
    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    pid_t parent = getpid();

    pid_ = fork();
    if (pid_ == 0) {
      dup2(null_fd, 0);
      dup2(out[1], 1);
      dup2(stderr_fd_, 2);
      close_range(3, ~0u, 0);
      prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (getppid() != parent) _exit(127);  // the parent died before prctl
      sigset_t none;
      sigemptyset(&none);
      sigprocmask(SIG_SETMASK, &none, nullptr);
      struct sigaction dfl {};
      dfl.sa_handler = SIG_DFL;
      sigaction(SIGINT, &dfl, nullptr);
      sigaction(SIGTERM, &dfl, nullptr);
      sigaction(SIGPIPE, &dfl, nullptr);
      execve(args[0], args.data(), envp.data());
      _exit(127);
    }
    int fork_errno = errno;
    close(out[1]);
    if (null_fd >= 0) close(null_fd);
    stdout_fd_ = out[0];
    if (pid_ < 0) {
      close(stdout_fd_);
      close(stderr_fd_);
      throw std::runtime_error(std::string("fork: ") + strerror(fork_errno));
    }
  }

  ~ChildProcess() {
    kill_and_wait();
    close(stdout_fd_);
    close(stderr_fd_);
  }

  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }

  void signal(int sig) const {
    if (!status_) ::kill(pid_, sig);
  }

  // The next line the child writes to stdout, without its '\n'; empty on end
  // of file or when `timeout` passes first.
  std::optional<std::string> read_line(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (size_t nl = stdout_buffer_.find('\n'); nl != std::string::npos) {
        std::string line = stdout_buffer_.substr(0, nl);
        stdout_buffer_.erase(0, nl + 1);
        return line;
      }
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      if (left.count() <= 0) return std::nullopt;
      pollfd p{stdout_fd_, POLLIN, 0};
      int ready = poll(&p, 1, static_cast<int>(left.count()));
      if (ready < 0 && errno == EINTR) continue;
      if (ready <= 0) return std::nullopt;
      char chunk[4096];
      ssize_t n = read(stdout_fd_, chunk, sizeof chunk);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return std::nullopt;
      stdout_buffer_.append(chunk, static_cast<size_t>(n));
    }
  }

  // Waits until the child exits and returns its wait status; empty if it
  // still runs after `timeout`.
  std::optional<int> wait(std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!status_) {
      int status = 0;
      pid_t r = waitpid(pid_, &status, WNOHANG);
      if (r == pid_) {
        status_ = status;
      } else if (r < 0 && errno != EINTR) {
        status_ = -1;
      } else if (std::chrono::steady_clock::now() > deadline) {
        return std::nullopt;
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(2));
      }
    }
    return status_;
  }

  // SIGKILL (which also ends a stopped process), then reap.
  void kill_and_wait() {
    if (status_) return;
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
    status_ = status;
  }

  // Everything the child wrote to stderr so far.
  std::string output() const {
    std::string out;
    char chunk[4096];
    off_t at = 0;
    for (;;) {
      ssize_t n = pread(stderr_fd_, chunk, sizeof chunk, at);
      if (n <= 0) return out;
      out.append(chunk, static_cast<size_t>(n));
      at += n;
    }
  }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int stderr_fd_ = -1;
  std::string stdout_buffer_;
  std::optional<int> status_;
};

// "exit code 2", "killed by signal 9", ...
inline std::string describe_wait_status(int status) {
  if (WIFEXITED(status)) return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "killed by signal " + std::to_string(WTERMSIG(status));
  return "wait status " + std::to_string(status);
}

// A plexus-node daemon (examples/plexus-node) in its own OS process.
class Daemon {
 public:
  struct Options {
    std::string name;  // "base@127.0.0.1:port"; port 0 picks one
    std::vector<std::string> seeds;
    std::chrono::milliseconds tick_timeout{1000};
    bool cookie_from_environment = false;  // PLEXUS_COOKIE instead of --cookie
    std::vector<std::string> extra_args;   // more flags, e.g. {"--zen", "off"}
    int max_open_files = 0;                // its descriptor limit (0: as inherited)
    // The test makes it run out of descriptors: under UBSan, its vptr check
    // (which needs a pipe) is turned off (tests/data/ubsan-out-of-descriptors.supp).
    bool runs_out_of_descriptors = false;
    // --http-port 0: the daemon serves HTTP on a free port (http_port()).
    bool http = false;
    // Another program built on the daemon (examples/chat's plexus-chat), and
    // how many lines it prints after READY and HTTP (ready_lines()).
    const char* binary = nullptr;
    int more_ready_lines = 0;
  };

  // Starts it and waits for its READY line; throws (failing the test) with
  // what it wrote to stderr if it does not get there.
  static std::unique_ptr<Daemon> start(const Options& options) {
    std::vector<std::string> argv{
        options.binary ? options.binary : kNodeBinary, "--name",      options.name, "--tick-ms",
        std::to_string(options.tick_timeout.count()),  "--log-level", "info"};
    argv.insert(argv.end(), options.extra_args.begin(), options.extra_args.end());
    if (options.http) argv.insert(argv.end(), {"--http-port", "0"});
    if (options.max_open_files > 0) {
      // prlimit sets the limit and executes the daemon in its place.
      std::string limit = std::to_string(options.max_open_files);
      argv.insert(argv.begin(), {"/usr/bin/prlimit", "--nofile=" + limit + ":" + limit});
    }
    std::vector<std::string> extra_env;
#ifdef PLEXUS_TEST_DATA_DIR
    if (options.runs_out_of_descriptors) {
      const char* ubsan = std::getenv("UBSAN_OPTIONS");
      extra_env.push_back(std::string("UBSAN_OPTIONS=") + (ubsan ? ubsan : "") +
                          ":suppressions=" PLEXUS_TEST_DATA_DIR "/ubsan-out-of-descriptors.supp");
    }
#endif
    if (options.cookie_from_environment) {
      extra_env.push_back(std::string("PLEXUS_COOKIE=") + kCookie);
    } else {
      argv.insert(argv.end(), {"--cookie", kCookie});
    }
    if (!options.seeds.empty()) {
      std::string seeds;
      for (const std::string& s : options.seeds) seeds += (seeds.empty() ? "" : ",") + s;
      argv.insert(argv.end(), {"--seeds", seeds});
    }
    auto process = std::make_unique<ChildProcess>(
        argv, environment_without("PLEXUS_COOKIE", std::move(extra_env)));
    std::optional<std::string> line = process->read_line(kWait);
    std::istringstream in(line.value_or(""));
    std::string ready, name;
    uint64_t creation = 0;
    if (!(in >> ready >> name >> creation) || ready != "READY") {
      throw std::runtime_error("plexus-node " + options.name + " did not get READY (stdout: '" +
                               line.value_or("") + "'); its stderr:\n" + process->output());
    }
    auto daemon = std::unique_ptr<Daemon>(new Daemon(std::move(process), name, creation));
    if (options.http) {
      // "HTTP 127.0.0.1:<port>" follows READY.
      std::optional<std::string> http = daemon->process_->read_line(kWait);
      size_t colon = http ? http->rfind(':') : std::string::npos;
      if (!http || !http->starts_with("HTTP ") || colon == std::string::npos) {
        throw std::runtime_error("plexus-node " + options.name +
                                 " did not say its HTTP port (stdout: '" + http.value_or("") +
                                 "'); its stderr:\n" + daemon->log());
      }
      daemon->http_port_ = static_cast<uint16_t>(std::stoi(http->substr(colon + 1)));
    }
    for (int i = 0; i < options.more_ready_lines; ++i) {
      std::optional<std::string> more = daemon->process_->read_line(kWait);
      if (!more) {
        throw std::runtime_error(options.name + " did not print its lines after READY; stderr:\n" +
                                 daemon->log());
      }
      daemon->ready_lines_.push_back(*more);
    }
    return daemon;
  }

  const std::string& name() const { return name_; }
  // The HTTP port, with Options::http.
  uint16_t http_port() const { return http_port_; }
  // What it printed after READY and HTTP (Options::more_ready_lines).
  const std::vector<std::string>& ready_lines() const { return ready_lines_; }
  uint64_t creation() const { return creation_; }
  ChildProcess& process() { return *process_; }
  std::string log() const { return process_->output(); }

 private:
  Daemon(std::unique_ptr<ChildProcess> process, std::string name, uint64_t creation)
      : process_(std::move(process)), name_(std::move(name)), creation_(creation) {}

  std::unique_ptr<ChildProcess> process_;
  std::string name_;
  uint64_t creation_;
  uint16_t http_port_ = 0;
  std::vector<std::string> ready_lines_;
};

// An order for the daemon's "exiter" processes (and the tests' own).
inline plexus_node::ExitCommand command(plexus_node::ExitCommand::How how,
                                        const std::string& text = "") {
  plexus_node::ExitCommand c;
  c.set_how(how);
  c.set_text(text);
  return c;
}

}  // namespace plexus_test

// plexus-node's life as a daemon: the signals that stop it and the one that
// does not, and where its cookie comes from.
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "node_process_fixture.h"

namespace plexus_test {
namespace {

TEST_F(NodeProcessTest, SigtermAndSigintStopADaemonCleanly) {
  for (int signal : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(strsignal(signal));
    Daemon& d = start_daemon("d");
    Inbox watcher(t_->runtime());
    t_->monitor_node(watcher.pid(), d.name());
    d.process().signal(signal);
    std::optional<int> status = d.process().wait(kWait);
    ASSERT_TRUE(status.has_value()) << "still running";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describe_wait_status(*status);
    EXPECT_EQ(must_receive<NodeDown>(watcher).node, d.name());
  }
}

// With hubs, a dashboard and a control process that reads them: the hubs
// leave, every process ends, and what each layer registered (the hubs'
// metrics) goes before the runtime does (the sanitizers see it otherwise).
TEST_F(NodeProcessTest, SigtermStopsADaemonWithHubsCleanly) {
  Daemon& d = start_daemon(Daemon::Options{.name = "hubs@127.0.0.1:0",
                                           .seeds = {t_->name()},
                                           .extra_args = {"--hub", "one", "--hub", "two"},
                                           .http = true});
  d.process().signal(SIGTERM);
  std::optional<int> status = d.process().wait(kWait);
  ASSERT_TRUE(status.has_value()) << "still running";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << describe_wait_status(*status) << "\n"
      << d.log();
}

TEST_F(NodeProcessTest, SighupDoesNotStopADaemon) {
  Daemon& d = start_daemon("h");
  uint64_t creation = node_info(d).creation();
  d.process().signal(SIGHUP);
  ASSERT_TRUE(eventually(
      t_->runtime(), [&] { return d.log().find("SIGHUP") != std::string::npos; }, kWait))
      << d.log();
  EXPECT_EQ(node_info(d).creation(), creation) << "the same daemon answers";
  d.process().signal(SIGTERM);
  std::optional<int> status = d.process().wait(kWait);
  ASSERT_TRUE(status.has_value()) << "still running";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describe_wait_status(*status);
}

// Each log line: a UTC timestamp, the level, the node's name, the text; or,
// with --log-format json, one JSON object with the same.
TEST_F(NodeProcessTest, LogLinesCarryTheTimeTheLevelAndTheNode) {
  Daemon& text = start_daemon("plain");
  std::istringstream lines(text.log());
  std::string first;
  std::getline(lines, first);
  // 2026-12-02T00:39:17.123Z info plain@127.0.0.1:PORT: node plain@... started (creation N)
  ASSERT_GE(first.size(), 25u) << first;
  EXPECT_EQ(first[4], '-');
  EXPECT_EQ(first[10], 'T');
  EXPECT_EQ(first[23], 'Z');
  EXPECT_EQ(first.substr(25), "info " + text.name() + ": node " + text.name() +
                                  " started (creation " + std::to_string(text.creation()) + ")");

  Daemon& json = start_daemon(Daemon::Options{
      .name = "json@127.0.0.1:0", .seeds = {t_->name()}, .extra_args = {"--log-format", "json"}});
  // Its "node t@... up" line is written when the test node's connection
  // is, which may be just after start_daemon returns.
  ASSERT_TRUE(eventually(
      t_->runtime(), [&] { return json.log().find(t_->name() + " up") != std::string::npos; },
      kWait))
      << json.log();
  std::istringstream json_lines(json.log());
  size_t seen = 0;
  for (std::string line; std::getline(json_lines, line); ++seen) {
    EXPECT_TRUE(line.starts_with("{\"time\":\"")) << line;
    EXPECT_TRUE(line.ends_with("}")) << line;
    EXPECT_NE(line.find("\"level\":\"info\",\"node\":\"" + json.name() + "\",\"msg\":\""),
              std::string::npos)
        << line;
  }
  EXPECT_GE(seen, 2u) << "started, and the test node up";
}

// --log-file: SIGHUP reopens the path, so a log rotation that moved the file
// away gets a new one, and the old one is left alone.
TEST_F(NodeProcessTest, SighupReopensTheLogFile) {
  char dir[] = "/tmp/plexus-log-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  std::string path = std::string(dir) + "/node.log", rotated = path + ".1";
  auto read = [](const std::string& file) {
    std::ifstream in(file);
    return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  };
  Daemon& d = start_daemon(Daemon::Options{
      .name = "rot@127.0.0.1:0", .seeds = {t_->name()}, .extra_args = {"--log-file", path}});
  EXPECT_NE(read(path).find("node " + d.name() + " started"), std::string::npos) << read(path);
  EXPECT_EQ(d.log(), "") << "nothing on stderr";
  ASSERT_EQ(std::rename(path.c_str(), rotated.c_str()), 0);
  d.process().signal(SIGHUP);
  ASSERT_TRUE(eventually(
      t_->runtime(),
      [&] { return read(path).find("SIGHUP: reopened " + path) != std::string::npos; }, kWait))
      << read(rotated);
  EXPECT_EQ(read(rotated).find("SIGHUP"), std::string::npos) << read(rotated);
  EXPECT_EQ(node_info(d).node(), d.name()) << "still serving";
  std::filesystem::remove_all(dir);
}

// Under systemd (Type=notify): READY=1 once it serves, STOPPING=1 when a
// SIGTERM starts its graceful stop; to a path or an abstract socket.
TEST_F(NodeProcessTest, ReadinessGoesToSystemdsNotifySocket) {
  for (bool abstract : {false, true}) {
    SCOPED_TRACE(abstract ? "abstract" : "path");
    std::string name = "/tmp/plexus-notify-" + std::to_string(getpid()) + (abstract ? "-a" : "-p");
    int fd = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un address{};
    address.sun_family = AF_UNIX;
    std::memcpy(address.sun_path, name.data(), name.size());
    if (abstract) address.sun_path[0] = '\0';
    ::unlink(name.c_str());
    socklen_t size = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + name.size());
    ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&address), size), 0) << std::strerror(errno);
    std::string env = "NOTIFY_SOCKET=" + (abstract ? "@" + name.substr(1) : name);
    ChildProcess daemon({kNodeBinary, "--name", "sd@127.0.0.1:0", "--cookie", kCookie},
                        environment_without("PLEXUS_COOKIE", {env}));
    auto next = [&]() -> std::string {
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, static_cast<int>(kWait.count())) != 1) return "";
      char buffer[512];
      ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
      return n > 0 ? std::string(buffer, static_cast<size_t>(n)) : "";
    };
    std::optional<std::string> ready = daemon.read_line(kWait);
    ASSERT_TRUE(ready && ready->starts_with("READY ")) << daemon.output();
    std::string name_seen = ready->substr(6, ready->rfind(' ') - 6);
    EXPECT_EQ(next(), "READY=1\nSTATUS=serving as " + name_seen);
    daemon.signal(SIGTERM);
    EXPECT_EQ(next(), "STOPPING=1\nSTATUS=leaving the hubs");
    std::optional<int> status = daemon.wait(kWait);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describe_wait_status(*status);
    ::close(fd);
    if (!abstract) ::unlink(name.c_str());
  }
}

TEST_F(NodeProcessTest, TheCookieMayComeFromTheEnvironment) {
  Daemon& d = start_daemon(Daemon::Options{
      .name = "env@127.0.0.1:0", .seeds = {t_->name()}, .cookie_from_environment = true});
  EXPECT_EQ(node_info(d).node(), d.name());
}

TEST_F(NodeProcessTest, ADaemonWithAnotherCookieIsRefused) {
  ChildProcess process({kNodeBinary, "--name", "stranger@127.0.0.1:0", "--cookie", "other"},
                       environment_without("PLEXUS_COOKIE"));
  std::optional<std::string> ready = process.read_line(kWait);
  ASSERT_TRUE(ready && ready->starts_with("READY ")) << process.output();
  std::string name = ready->substr(6, ready->rfind(' ') - 6);
  plexus::Status status = t_->connect(name);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status;
  EXPECT_TRUE(t_->nodes().empty());
}

}  // namespace
}  // namespace plexus_test

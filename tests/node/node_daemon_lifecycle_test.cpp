// plexus-node's life as a daemon: the signals that stop it and the one that
// does not, and where its cookie comes from.
#include <sys/wait.h>

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

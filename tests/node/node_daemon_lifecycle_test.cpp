// plexus-node's life as a daemon: the signals that stop it and the one that
// does not, and where its cookie comes from.
#include <sys/wait.h>

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

// plexus-node's HTTP port: /metrics (checked by Prometheus's own promtool),
// /healthz and /readyz, on real daemons.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>

#include "ctl_support.h"
#include "http_client.h"
#include "node_process_fixture.h"

namespace plexus_test {
namespace {

constexpr char kPromtool[] = "/usr/bin/promtool";

// `promtool check metrics` on `text`: its exit status and what it said.
std::pair<int, std::string> promtool_check(const std::string& text) {
  char dir[] = "/tmp/plexus-promtool-XXXXXX";
  if (!mkdtemp(dir)) return {-1, "mkdtemp failed"};
  std::string in = std::string(dir) + "/metrics.txt", out = std::string(dir) + "/out.txt";
  std::ofstream(in) << text;
  std::string command = std::string(kPromtool) + " check metrics < " + in + " > " + out + " 2>&1";
  int status = std::system(command.c_str());
  std::ifstream said(out);
  std::string output((std::istreambuf_iterator<char>(said)), std::istreambuf_iterator<char>());
  std::remove(in.c_str());
  std::remove(out.c_str());
  rmdir(dir);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

TEST_F(NodeProcessTest, MetricsPassPromtoolAndCoverEveryLayer) {
  ASSERT_EQ(access(kPromtool, X_OK), 0)
      << kPromtool << " is missing: scripts/install-deps.sh installs Debian's prometheus";
  Daemon& a = start_lone_daemon(
      Daemon::Options{.name = "ma@127.0.0.1:0", .extra_args = {"--hub", "chat"}, .http = true});
  Daemon& b = start_lone_daemon(Daemon::Options{
      .name = "mb@127.0.0.1:0", .seeds = {a.name()}, .extra_args = {"--hub", "chat"}});
  std::string node = "node=\"" + a.name() + "\"";
  // Both members in a's view of the hub, and a's link to b up.
  auto members = "plexus_hub_members{" + node + ",hub=\"chat\"} 2\n";
  std::optional<HttpReply> reply = http_poll(a.http_port(), "/metrics", [&](const HttpReply& r) {
    return r.body.find(members) != std::string::npos;
  });
  ASSERT_TRUE(reply) << a.log();
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& text = reply->body;
  for (const std::string& expected :
       std::vector<std::string>{"plexus_node_peer_up{" + node + ",peer=\"" + b.name() + "\"} 1\n",
                                "# TYPE plexus_processes gauge\n",
                                "# TYPE plexus_scheduler_busy_seconds_total counter\n",
                                "# TYPE zen_monitor_local_monitor_total counter\n",
                                "# TYPE plexus_hub_children_started_total counter\n",
                                "plexus_run_queue_length{" + node + "} "}) {
    EXPECT_NE(text.find(expected), std::string::npos) << expected << " not in\n" << text;
  }
  auto [status, said] = promtool_check(text);
  EXPECT_EQ(status, 0) << said << "\n" << text;
  EXPECT_EQ(said, "") << "promtool's lint found something:\n" << said;
}

TEST_F(NodeProcessTest, HealthAndReadinessFollowTheSeedsAndTheHubs) {
  // A seed that is not there yet: healthy, not ready.
  Daemon& lonely = start_lone_daemon(Daemon::Options{.name = "lonely@127.0.0.1:0",
                                                     .seeds = {"later@127.0.0.1:1"},
                                                     .extra_args = {"--hub", "chat"},
                                                     .http = true});
  std::optional<HttpReply> health = http_get(lonely.http_port(), "/healthz");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  EXPECT_EQ(health->body, "ok\n");
  std::optional<HttpReply> not_ready = http_get(lonely.http_port(), "/readyz");
  ASSERT_TRUE(not_ready);
  EXPECT_EQ(not_ready->status, 503);
  EXPECT_NE(not_ready->body.find("no seed reached yet"), std::string::npos) << not_ready->body;

  // Seeded by a node that runs (no hub there): ready once its hub has
  // settled. Views wait 3 s for quiet, so a member found stays out of the
  // view for a while.
  const std::vector<std::string> slow_views = {"--hub", "chat", "--hub-view-debounce-ms", "3000"};
  Daemon& seeded = start_daemon(Daemon::Options{
      .name = "seeded@127.0.0.1:0", .seeds = {t_->name()}, .extra_args = slow_views, .http = true});
  std::optional<HttpReply> ready =
      http_poll(seeded.http_port(), "/readyz", [](const HttpReply& r) { return r.status == 200; });
  ASSERT_TRUE(ready) << http_get(seeded.http_port(), "/readyz").value_or(HttpReply{}).body;
  EXPECT_EQ(ready->body, "ready\n");

  // A second member: not ready while its hub has found seeded's and the
  // two are not in one view yet; when ready, its view holds both.
  Daemon& joiner = start_daemon(Daemon::Options{.name = "joiner@127.0.0.1:0",
                                                .seeds = {seeded.name()},
                                                .extra_args = slow_views,
                                                .http = true});
  std::optional<HttpReply> waiting = http_poll(
      joiner.http_port(), "/readyz",
      [](const HttpReply& r) { return r.body.find("not yet in one view") != std::string::npos; });
  ASSERT_TRUE(waiting) << http_get(joiner.http_port(), "/readyz").value_or(HttpReply{}).body;
  EXPECT_EQ(waiting->status, 503);
  ready =
      http_poll(joiner.http_port(), "/readyz", [](const HttpReply& r) { return r.status == 200; });
  ASSERT_TRUE(ready) << http_get(joiner.http_port(), "/readyz").value_or(HttpReply{}).body;
  EXPECT_TRUE(hub_settled_on(joiner.name(), "chat", 2)) << "ready, so in one view with seeded";

  // Read-only: nothing but GET and HEAD.
  std::optional<HttpReply> post = http_get(seeded.http_port(), "/readyz", "POST");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
}

TEST_F(NodeProcessTest, HttpFlagsAreCheckedAndAPortInUseStopsTheStart) {
  Daemon& first = start_lone_daemon(Daemon::Options{.name = "web1@127.0.0.1:0", .http = true});
  std::string port = std::to_string(first.http_port());
  ChildProcess taken(
      {kNodeBinary, "--name", "web2@127.0.0.1:0", "--cookie", kCookie, "--http-port", port},
      environment_without("PLEXUS_COOKIE"));
  std::optional<int> status = taken.wait(kWait);
  ASSERT_TRUE(status.has_value());
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << describe_wait_status(*status);
  EXPECT_NE(taken.output().find("cannot listen on 127.0.0.1:" + port), std::string::npos)
      << taken.output();
  for (const char* bad : {"65536", "-1", "http"}) {
    ChildProcess refused(
        {kNodeBinary, "--name", "web3@127.0.0.1:0", "--cookie", kCookie, "--http-port", bad},
        environment_without("PLEXUS_COOKIE"));
    status = refused.wait(kWait);
    ASSERT_TRUE(status.has_value());
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << describe_wait_status(*status);
    EXPECT_NE(refused.output().find("--http-port"), std::string::npos) << refused.output();
  }
}

}  // namespace
}  // namespace plexus_test

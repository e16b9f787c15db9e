// plexus-node's command line: flags, usage, version and exit codes.
#include <sys/stat.h>
#include <sys/wait.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <tuple>
#include <vector>

#include "http_client.h"
#include "node_process_support.h"
#include "plexus/version.h"

namespace plexus_test {
namespace {

TEST(NodeProcessFlagsTest, BadFlagsExitWithCode2AndSayWhy) {
  if (kNodeBinary == nullptr) GTEST_SKIP() << "built without examples/plexus-node";
  struct Case {
    std::vector<std::string> args;
    std::string says;
  };
  const std::string name = "x@127.0.0.1:0";
  std::vector<Case> cases{
      {{"--bogus", "1"}, "unknown flag '--bogus'"},
      {{"stray"}, "unexpected argument 'stray'"},
      {{"--cookie", "c"}, "--name is required"},
      {{"--name"}, "--name: missing value"},
      {{"--name", "nohost", "--cookie", "c"}, "--name: 'nohost'"},
      {{"--name", name, "--cookie", "c", "--seeds", "a@h:0"}, "--seeds: 'a@h:0'"},
      {{"--name", name, "--cookie", "c", "--tick-ms", "soon"}, "--tick-ms: 'soon'"},
      {{"--name", name, "--cookie", "c", "--tick-ms", "5"}, "--tick-ms: '5'"},
      {{"--name", name, "--cookie", "c", "--log-level=loud"}, "--log-level: 'loud'"},
      {{"--name", name, "--cookie", "c", "--zen", "maybe"}, "--zen: 'maybe'"},
      {{"--name", name, "--cookie", "c", "--zen-sweep-ms", "0"}, "--zen-sweep-ms: '0'"},
      {{"--name", name}, "no cookie"},
      {{"--name", name, "--cookie-file", "/nonexistent/cookie"}, "--cookie-file: cannot read"},
      {{"--config", "/nonexistent/node.toml"}, "/nonexistent/node.toml was not readable"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-partition", "quorum"},
       "--hub-partition: 'quorum' is not divergence, static_quorum"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-partition", "static_quorum"},
       "static_quorum needs --hub-quorum-size"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-quorum-size", "3"},
       "--hub-quorum-size: needs --hub-partition static_quorum or dynamic_quorum"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-partition", "dynamic_quorum",
        "--hub-quorum-size", "120"},
       "quorum_percent must be 1 to 100"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-partition", "majority_quorum",
        "--hub-track-max-size", "maybe"},
       "track-max-size: 'maybe' is not true or false"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-sync", "rumour"},
       "--hub-sync: 'rumour' is not pubsub or gossip"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-gossip-fanout", "2"},
       "--hub-gossip-fanout: needs --hub-sync gossip"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-sync", "gossip",
        "--hub-gossip-fanout", "0"},
       "gossip-fanout: '0' is not 1 or more"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-sync", "gossip",
        "--hub-gossip-ack-ms", "5000", "--hub-gossip-ttl-ms", "1000"},
       "ttl (1000 ms) must be at least ack_timeout (5000 ms)"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-store-sync", "true"},
       "--hub-store-sync: needs --hub-store"},
      {{"--name", name, "--cookie", "c", "--hub", "h", "--hub-store", "/tmp/plexus-flags-store",
        "--hub-store-sync", "maybe"},
       "store-sync: 'maybe' is not true or false"},
      // The defaults' 40 s fence does not outlast a 200 s tick's 50 s.
      {{"--name", name, "--cookie", "c", "--tick-ms", "200000", "--hub", "h", "--hub-partition",
        "majority_quorum"},
       "fence_margin (40000 ms) must be longer than"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> argv{kNodeBinary};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    SCOPED_TRACE(join(argv));
    ChildProcess process(argv, environment_without("PLEXUS_COOKIE"));
    std::optional<int> status = process.wait(kWait);
    ASSERT_TRUE(status.has_value()) << "still running";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 2) << describe_wait_status(*status);
    EXPECT_NE(process.output().find(c.says), std::string::npos) << process.output();
    EXPECT_EQ(process.read_line(0ms), std::nullopt) << "no READY";
  }
}

// Runs plexus-node with `flag` alone, expects exit code 0, and returns the
// first line it printed.
std::string first_line_of(const char* flag) {
  ChildProcess process({kNodeBinary, flag}, environment_without("PLEXUS_COOKIE"));
  std::optional<int> status = process.wait(kWait);
  if (!status) return "(still running)";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describe_wait_status(*status);
  return process.read_line(kWait).value_or("(nothing printed)");
}

TEST(NodeProcessFlagsTest, HelpPrintsUsageAndExitsZero) {
  if (kNodeBinary == nullptr) GTEST_SKIP() << "built without examples/plexus-node";
  std::string first = first_line_of("--help");
  EXPECT_TRUE(first.starts_with("Usage: plexus-node")) << first;
}

TEST(NodeProcessFlagsTest, VersionPrintsTheVersionAndExitsZero) {
  if (kNodeBinary == nullptr) GTEST_SKIP() << "built without examples/plexus-node";
  EXPECT_EQ(first_line_of("--version"), std::string("plexus-node ") + PLEXUS_VERSION_STRING);
}

TEST(NodeProcessFlagsTest, APortInUseExitsWithCode1) {
  if (kNodeBinary == nullptr) GTEST_SKIP() << "built without examples/plexus-node";
  auto taken = Daemon::start(Daemon::Options{.name = "first@127.0.0.1:0"});
  std::string port = taken->name().substr(taken->name().rfind(':'));
  ChildProcess process({kNodeBinary, "--name", "second@127.0.0.1" + port, "--cookie", kCookie},
                       environment_without("PLEXUS_COOKIE"));
  std::optional<int> status = process.wait(kWait);
  ASSERT_TRUE(status.has_value()) << "still running";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 1) << describe_wait_status(*status);
  EXPECT_NE(process.output().find("cannot listen"), std::string::npos) << process.output();
}

// A file in a fresh directory, with `mode`; removed with the directory.
class TempFiles {
 public:
  TempFiles() {
    char dir[] = "/tmp/plexus-flags-XXXXXX";
    if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
  }
  ~TempFiles() { std::filesystem::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text, mode_t mode = 0600) {
    std::string path = dir_ + "/" + name;
    std::ofstream(path) << text;
    ::chmod(path.c_str(), mode);
    return path;
  }

 private:
  std::string dir_;
};

// Starts plexus-node with `args` and `env`; its READY name, or what it said.
struct Started {
  std::unique_ptr<ChildProcess> process;
  std::string name;  // empty: no READY
  uint16_t http_port = 0;
};
Started start(std::vector<std::string> args, std::vector<std::string> env = {}) {
  std::vector<std::string> argv{kNodeBinary};
  argv.insert(argv.end(), args.begin(), args.end());
  Started s;
  s.process = std::make_unique<ChildProcess>(argv, environment_without("PLEXUS_COOKIE", env));
  std::optional<std::string> ready = s.process->read_line(kWait);
  if (ready && ready->starts_with("READY ")) s.name = ready->substr(6, ready->rfind(' ') - 6);
  if (std::optional<std::string> http = s.process->read_line(200ms);
      http && http->starts_with("HTTP ")) {
    s.http_port = static_cast<uint16_t>(std::stoi(http->substr(http->rfind(':') + 1)));
  }
  return s;
}

TEST(NodeProcessFlagsTest, EveryFlagMayComeFromItsEnvironmentVariable) {
  Started s = start({}, {"PLEXUS_NAME=fromenv@127.0.0.1:0", std::string("PLEXUS_COOKIE=") + kCookie,
                         "PLEXUS_HTTP_PORT=0", "PLEXUS_HUB=chat,rooms"});
  ASSERT_TRUE(s.name.starts_with("fromenv@127.0.0.1:")) << s.process->output();
  ASSERT_NE(s.http_port, 0) << "PLEXUS_HTTP_PORT";
  std::optional<HttpReply> metrics = http_get(s.http_port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("hub=\"chat\""), std::string::npos);
  EXPECT_NE(metrics->body.find("hub=\"rooms\""), std::string::npos);
  // A bad value in the environment names its flag.
  Started bad = start({}, {"PLEXUS_NAME=x@127.0.0.1:0", "PLEXUS_COOKIE=c", "PLEXUS_TICK_MS=5"});
  EXPECT_EQ(bad.name, "");
  std::optional<int> status = bad.process->wait(kWait);
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(bad.process->output().find("--tick-ms: '5'"), std::string::npos)
      << bad.process->output();
}

TEST(NodeProcessFlagsTest, AConfigFileSetsFlagsTheCommandLineOverrides) {
  TempFiles files;
  std::string cookie = files.write("cookie", std::string(kCookie) + "\n");
  std::string config = files.write("node.toml",
                                   "# a node of the chat cluster\n"
                                   "name = \"fromfile@127.0.0.1:0\"\n"
                                   "cookie-file = \"" +
                                       cookie +
                                       "\"\n"
                                       "hub = [\"chat\"]\n"
                                       "hub-sync-ms = 300\n"
                                       "http-port = 0\n");
  // The file wins over the environment...
  Started s = start({"--config", config}, {"PLEXUS_NAME=fromenv@127.0.0.1:0"});
  ASSERT_TRUE(s.name.starts_with("fromfile@127.0.0.1:")) << s.process->output();
  ASSERT_NE(s.http_port, 0);
  std::optional<HttpReply> metrics = http_get(s.http_port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("hub=\"chat\""), std::string::npos);
  // ... and the command line over the file.
  Started cli = start({"--config", config, "--name", "fromcli@127.0.0.1:0"});
  EXPECT_TRUE(cli.name.starts_with("fromcli@127.0.0.1:")) << cli.process->output();
  // The cookie from the file is the cluster's: the node joins one that has it.
  Started peer = start({"--name", "peer@127.0.0.1:0", "--cookie", kCookie, "--seeds", s.name});
  ASSERT_FALSE(peer.name.empty()) << peer.process->output();
  EXPECT_TRUE(http_poll(s.http_port, "/metrics", [&](const HttpReply& m) {
    return m.body.find("peer=\"" + peer.name + "\"} 1") != std::string::npos;
  })) << "the peer with the file's cookie never came up";

  // A key that is no flag is an error, not ignored.
  std::string typo = files.write("typo.toml", "name = \"t@127.0.0.1:0\"\ncookei = \"c\"\n");
  Started bad = start({"--config", typo});
  std::optional<int> status = bad.process->wait(kWait);
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(bad.process->output().find("cookei"), std::string::npos) << bad.process->output();
}

TEST(NodeProcessFlagsTest, ACookieFileOthersMayReadIsRefused) {
  TempFiles files;
  std::string open_to_all = files.write("cookie", "secret\n", 0644);
  Started s = start({"--name", "c@127.0.0.1:0", "--cookie-file", open_to_all});
  std::optional<int> status = s.process->wait(kWait);
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(s.process->output().find("may be read by others (chmod 600 it)"), std::string::npos)
      << s.process->output();
  std::string empty = files.write("empty", "\n");
  Started e = start({"--name", "c@127.0.0.1:0", "--cookie-file", empty});
  status = e.process->wait(kWait);
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(e.process->output().find("is empty"), std::string::npos) << e.process->output();
}

// plexusctl takes the cookie from --cookie-file ($PLEXUS_COOKIE_FILE), or
// from ~/.plexus.cookie, as the daemon does: a file others may read is
// refused (exit 2); the node may come from $PLEXUS_NODE; it says its version.
TEST(NodeProcessFlagsTest, PlexusctlReadsItsCookieFromAFileAndSaysItsVersion) {
  if (kCtlBinary == nullptr) GTEST_SKIP() << "built without examples/plexusctl";
  auto run = [](std::vector<std::string> args, std::vector<std::string> env = {}) {
    std::vector<std::string> argv{kCtlBinary};
    argv.insert(argv.end(), args.begin(), args.end());
    ChildProcess p(argv, environment_without("PLEXUS_COOKIE", std::move(env)));
    std::optional<int> status = p.wait(kWait);
    int code = status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
    std::string out = p.read_line(kWait).value_or("");
    return std::tuple<int, std::string, std::string>{code, out, p.output()};
  };
  auto [vcode, version, verr] = run({"--version"});
  EXPECT_EQ(vcode, 0) << verr;
  EXPECT_EQ(version, std::string("plexusctl ") + PLEXUS_VERSION_STRING);

  auto daemon = Daemon::start(Daemon::Options{.name = "ctlcookie@127.0.0.1:0"});
  TempFiles files;
  std::string mine = files.write("cookie", std::string(kCookie) + "\n", 0600);
  std::string open_to_all = files.write("open", std::string(kCookie) + "\n", 0644);
  const std::string home = "HOME=/nonexistent";
  auto [code, line, err] = run({"--node", daemon->name(), "--cookie-file", mine, "info"}, {home});
  EXPECT_EQ(code, 0) << err;
  EXPECT_NE(line.find(daemon->name()), std::string::npos) << line;
  std::tie(code, line, err) =
      run({"--node", daemon->name(), "--cookie-file", open_to_all, "info"}, {home});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("--cookie-file: '" + open_to_all + "' may be read by others"),
            std::string::npos)
      << err;

  // The node and the cookie file from the environment.
  std::tie(code, line, err) =
      run({"info"}, {home, "PLEXUS_NODE=" + daemon->name(), "PLEXUS_COOKIE_FILE=" + mine});
  EXPECT_EQ(code, 0) << err;
  EXPECT_NE(line.find(daemon->name()), std::string::npos) << line;

  // ~/.plexus.cookie: used when nothing else names a cookie, refused if
  // others may read it.
  std::filesystem::path dir = std::filesystem::path(mine).parent_path();
  files.write(".plexus.cookie", std::string(kCookie) + "\n", 0600);
  std::tie(code, line, err) = run({"--node", daemon->name(), "info"}, {"HOME=" + dir.string()});
  EXPECT_EQ(code, 0) << err;
  ::chmod((dir / ".plexus.cookie").c_str(), 0640);
  std::tie(code, line, err) = run({"--node", daemon->name(), "info"}, {"HOME=" + dir.string()});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("~/.plexus.cookie: "), std::string::npos) << err;
  std::tie(code, line, err) = run({"--node", daemon->name(), "info"}, {home});
  EXPECT_EQ(code, 2);
  EXPECT_NE(err.find("no cookie: pass --cookie or --cookie-file"), std::string::npos) << err;
}

#ifdef PLEXUS_SOURCE_DIR
// packaging/systemd/node.toml is a config plexus-node takes (with this
// machine's name, cookie and ports given on the command line).
TEST(NodeProcessFlagsTest, ThePackagedExampleConfigIsOnePlexusNodeTakes) {
  Started s =
      start({"--config", PLEXUS_SOURCE_DIR "/packaging/systemd/node.toml", "--name",
             "packaged@127.0.0.1:0", "--seeds", "", "--cookie", kCookie, "--http-port", "0"});
  EXPECT_TRUE(s.name.starts_with("packaged@127.0.0.1:")) << s.process->output();
  EXPECT_NE(s.http_port, 0);
}

// packaging/kubernetes/plexus.yaml sets the flags by their PLEXUS_*
// variables: each is one plexus-node takes (this machine's name, cookie and
// ports given on the command line, which wins).
TEST(NodeProcessFlagsTest, TheKubernetesExamplesVariablesAreFlags) {
  std::ifstream in(PLEXUS_SOURCE_DIR "/packaging/kubernetes/plexus.yaml");
  std::regex variable(R"re(\{name: (PLEXUS_[A-Z_]+), value: "?([^"}]*)"?\})re");
  std::vector<std::string> env;
  for (std::string line; std::getline(in, line);) {
    std::smatch m;
    if (std::regex_search(line, m, variable)) env.push_back(m[1].str() + "=" + m[2].str());
  }
  ASSERT_GE(env.size(), 10u);
  Started s = start({"--name", "k8s@127.0.0.1:0", "--cookie", kCookie, "--http-port", "0",
                     "--http-address", "127.0.0.1"},
                    env);
  EXPECT_TRUE(s.name.starts_with("k8s@127.0.0.1:")) << s.process->output();
  ASSERT_NE(s.http_port, 0);
  std::optional<HttpReply> metrics = http_get(s.http_port, "/metrics");
  ASSERT_TRUE(metrics);
  EXPECT_NE(metrics->body.find("hub=\"chat\""), std::string::npos) << "PLEXUS_HUB";
  EXPECT_NE(metrics->body.find("plexus_dns_discovery_queries_total"), std::string::npos)
      << "PLEXUS_DISCOVER_DNS";
}
#endif

}  // namespace
}  // namespace plexus_test

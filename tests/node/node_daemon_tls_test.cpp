// plexus-node and plexusctl with mutual TLS (--tls-ca, --tls-cert,
// --tls-key): daemons that present the cluster's certificates form a
// cluster, plexusctl reaches them only with TLS, and a partial set of the
// flags is a usage error.
#include <sys/wait.h>

#include "ctl_support.h"
#include "node_process_support.h"

namespace plexus_test {
namespace {

std::vector<std::string> tls_flags() {
  const std::string dir = std::string(PLEXUS_TEST_DATA_DIR) + "/tls/";
  return {"--tls-ca",  dir + "cluster-ca.pem", "--tls-cert", dir + "node.pem",
          "--tls-key", dir + "node.key"};
}

TEST(NodeDaemonTlsTest, DaemonsFormAClusterOverTlsAndPlexusctlReachesThemOnlyWithIt) {
  if (kNodeBinary == nullptr || kCtlBinary == nullptr) GTEST_SKIP() << "built without examples";
  auto a = Daemon::start(Daemon::Options{.name = "tlsa@127.0.0.1:0", .extra_args = tls_flags()});
  auto b = Daemon::start(
      Daemon::Options{.name = "tlsb@127.0.0.1:0", .seeds = {a->name()}, .extra_args = tls_flags()});
  std::vector<std::string> nodes = tls_flags();
  nodes.insert(nodes.begin(), "nodes");
  Ctl seen;
  auto deadline = std::chrono::steady_clock::now() + kWait;
  do {
    seen = ctl(a->name(), nodes);
  } while ((seen.code != 0 || seen.lines.size() != 2) &&
           std::chrono::steady_clock::now() < deadline);
  ASSERT_EQ(seen.code, 0) << seen.err;
  ASSERT_EQ(seen.lines.size(), 2u) << "a and b, over TLS";
  for (const std::string& line : seen.lines) EXPECT_EQ(field(line, "up"), "true") << line;
  EXPECT_TRUE(field(seen.lines[0], "node") == b->name() ||
              field(seen.lines[1], "node") == b->name())
      << seen.lines[0] << "\n"
      << seen.lines[1];

  // Without TLS plexusctl cannot reach a node that speaks only TLS.
  Ctl plain = ctl(a->name(), {"nodes", "--timeout-ms", "3000"});
  EXPECT_EQ(plain.code, 1);
  EXPECT_NE(plain.err.find("cannot reach " + a->name()), std::string::npos) << plain.err;
}

TEST(NodeDaemonTlsTest, APartOfTheTlsFlagsIsAUsageError) {
  if (kNodeBinary == nullptr || kCtlBinary == nullptr) GTEST_SKIP() << "built without examples";
  std::vector<std::string> some = tls_flags();
  some.resize(4);  // no --tls-key
  std::vector<std::string> argv{kNodeBinary, "--name", "tlsc@127.0.0.1:0", "--cookie", kCookie};
  argv.insert(argv.end(), some.begin(), some.end());
  ChildProcess daemon(argv, environment_without("PLEXUS_COOKIE"));
  std::optional<int> status = daemon.wait(kWait);
  ASSERT_TRUE(status && WIFEXITED(*status));
  EXPECT_EQ(WEXITSTATUS(*status), 2);
  EXPECT_NE(daemon.output().find("TLS needs all of --tls-ca, --tls-cert and --tls-key"),
            std::string::npos)
      << daemon.output();

  std::vector<std::string> args = {"nodes"};
  args.insert(args.end(), some.begin(), some.end());
  Ctl ctl_some = ctl("x@127.0.0.1:1", args);
  EXPECT_EQ(ctl_some.code, 2);
  EXPECT_NE(ctl_some.err.find("TLS needs all of --tls-ca, --tls-cert and --tls-key"),
            std::string::npos)
      << ctl_some.err;
}

}  // namespace
}  // namespace plexus_test

// plexus-node's command line: flags, usage, version and exit codes.
#include <sys/wait.h>

#include <optional>
#include <string>
#include <vector>

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

}  // namespace
}  // namespace plexus_test

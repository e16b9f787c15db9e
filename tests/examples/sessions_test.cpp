// The sessions example (examples/sessions) runs its tour and checks itself;
// this runs it as a user would and reads what it says.
#include <gtest/gtest.h>

#include "node_process_support.h"

namespace plexus_test {
namespace {

TEST(SessionsExampleTest, EveryLostSessionIsReportedOnceAndComesBack) {
  ChildProcess sessions({PLEXUS_SESSIONS_BINARY}, environment_without(""));
  std::string all;
  while (std::optional<std::string> line = sessions.read_line(std::chrono::seconds(60))) {
    all += *line + "\n";
  }
  std::optional<int> status = sessions.wait(std::chrono::seconds(30));
  ASSERT_TRUE(status.has_value()) << all;
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0)
      << describe_wait_status(*status) << "\n"
      << all << sessions.output();
  EXPECT_NE(all.find("300 sessions started through the hub"), std::string::npos) << all;
  EXPECT_NE(all.find("presence of user0 (asked from s2): away: lunch"), std::string::npos) << all;
  EXPECT_NE(all.find("(nodedown, once each)"), std::string::npos) << all;
  EXPECT_NE(all.find("every session runs again"), std::string::npos) << all;
  EXPECT_EQ(all.find("FAILED"), std::string::npos) << all;
}

}  // namespace
}  // namespace plexus_test

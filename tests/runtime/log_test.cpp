// Log records: their text and JSON lines, the level check before a line is
// built, and the node's name on the records of a node's runtime.
#include "plexus/log.h"

#include <gtest/gtest.h>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::LogFormat;
using plexus::LogRecord;

// 2026-12-02T00:39:17.123Z
const auto kTime = std::chrono::system_clock::time_point(std::chrono::milliseconds(1796171957123));

TEST(LogFormatTest, TextHasTheUtcTimeTheLevelTheNodeAndTheText) {
  LogRecord r{kTime, LogLevel::kWarning, "a@127.0.0.1:7101", "node b down: tick timeout"};
  EXPECT_EQ(plexus::format_log_record(r, LogFormat::kText),
            "2026-12-02T00:39:17.123Z warning a@127.0.0.1:7101: node b down: tick timeout");
  r.node = "";
  EXPECT_EQ(plexus::format_log_record(r, LogFormat::kText),
            "2026-12-02T00:39:17.123Z warning: node b down: tick timeout");
}

TEST(LogFormatTest, JsonIsOneObjectWithEscapedStrings) {
  LogRecord r{kTime, LogLevel::kInfo, "a@h:1", "say \"hi\"\\\n\x01"};
  EXPECT_EQ(plexus::format_log_record(r, LogFormat::kJson),
            "{\"time\":\"2026-12-02T00:39:17.123Z\",\"level\":\"info\",\"node\":\"a@h:1\","
            "\"msg\":\"say \\\"hi\\\"\\\\\\n\\u0001\"}");
}

TEST(LogFormatTest, LevelsHaveNamesBothWays) {
  for (LogLevel level :
       {LogLevel::kDebug, LogLevel::kInfo, LogLevel::kWarning, LogLevel::kError, LogLevel::kNone}) {
    EXPECT_EQ(plexus::parse_log_level(plexus::log_level_name(level)), level);
  }
  EXPECT_FALSE(plexus::parse_log_level("verbose").has_value());
}

TEST(RuntimeLogTest, ALineBelowTheLevelIsNeverBuilt) {
  LogCapture logs;
  plexus::RuntimeOptions options = runtime_options(Sched::kDeterministic, &logs);  // info
  plexus::Runtime rt(options);
  int built = 0;
  rt.log(LogLevel::kDebug, [&] {
    ++built;
    return std::string("debug detail");
  });
  EXPECT_EQ(built, 0);
  EXPECT_FALSE(rt.log_enabled(LogLevel::kDebug));
  EXPECT_TRUE(rt.log_enabled(LogLevel::kWarning));
  rt.log(LogLevel::kWarning, [&] {
    ++built;
    return std::string("worth saying");
  });
  EXPECT_EQ(built, 1);
  EXPECT_EQ(logs.count(LogLevel::kWarning, {"worth saying"}), 1u);
  EXPECT_EQ(logs.lines().back().node, "");  // no node: no name
}

TEST(RuntimeLogTest, NoneLogsNothing) {
  LogCapture logs;
  plexus::RuntimeOptions options = runtime_options(Sched::kDeterministic, &logs);
  options.log_level = LogLevel::kNone;
  plexus::Runtime rt(options);
  rt.log(LogLevel::kError, "an error");
  EXPECT_TRUE(logs.lines().empty());
}

}  // namespace
}  // namespace plexus_test

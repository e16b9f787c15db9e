// Durable children on real daemons (docs/hub.md, "Durable children"): three
// plexus-node processes keep hub "demo"'s children in RocksDB stores of
// their own; every one is killed with kill -9 and started again (on new
// ports, as new nodes), and every child comes back once, with the value of
// every incr it acknowledged, and none that was stopped.
#include <signal.h>

#include <filesystem>
#include <fstream>

#include "hub_process_fixture.h"

namespace plexus_test {
namespace {

class HubDurableProcessTest : public HubProcessTest {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("plexus_durable_daemons_" + std::to_string(::getpid()));
    std::filesystem::remove_all(dir_);
    store_root_ = dir_.string();
    HubProcessTest::SetUp();
  }
  void TearDown() override {
    HubProcessTest::TearDown();
    daemons_.clear();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
};

TEST_F(HubDurableProcessTest, EveryNodeKilledAndStartedAgainBringsEveryChildBackOnce) {
  std::set<std::string> ids = start_many("p", 600);
  ASSERT_FALSE(ids.empty());
  // Some counters raised (through any node: the hub calls the child where
  // it runs), some children stopped.
  std::map<std::string, int> values;
  int k = 0;
  for (const std::string& id : ids) {
    if (++k > 12) break;
    ASSERT_TRUE(raise(k % 2 ? "b" : "c", id, k % 4 + 1));
    values[id] = k % 4 + 1;
  }
  std::set<std::string> stopped;
  for (auto it = ids.rbegin(); stopped.size() < 20; ++it) stopped.insert(*it);
  for (const std::string& id : stopped) {
    Ctl stop = ctl(d("a").name(), {"hub", "demo", "stop", id});
    ASSERT_EQ(stop.code, 0) << stop.err;
    ids.erase(id);
  }
  ASSERT_EQ(converged(ids), "");

  for (const char* base : {"a", "b", "c"}) {
    d(base).process().kill_and_wait();  // kill -9
    daemons_[base].reset();
  }
  for (const char* base : {"a", "b", "c"}) start(base);
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "") << "every child once, none stopped";
  for (const auto& [id, value] : values) EXPECT_EQ(value_of("a", id), std::to_string(value)) << id;
}

// A store made unreadable while its node is down: the node still starts,
// says so, and runs on with a new store.
TEST_F(HubDurableProcessTest, ACorruptStoreIsReportedAndTheNodeStillStarts) {
  std::set<std::string> ids = start_many("q", 300);
  ASSERT_FALSE(ids.empty());
  d("c").process().kill_and_wait();
  daemons_["c"].reset();
  ASSERT_TRUE(settled(2));
  ASSERT_EQ(converged(ids), "");
  {
    std::ofstream current(dir_ / "c" / "demo" / "CURRENT", std::ios::trunc);
    current << "garbage";
  }
  start("c");
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "");
  EXPECT_NE(d("c").log().find("moved aside to " + (dir_ / "c" / "demo").string() + ".corrupt-"),
            std::string::npos)
      << d("c").log();
}

}  // namespace
}  // namespace plexus_test

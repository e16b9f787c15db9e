// Hot swap with real daemons (`--hub-migration hot_swap`): a drain, SIGTERM,
// a rolling restart, and kill -9 of the new home and of the old one in the
// middle of a drain's handovers. Each counter child keeps its value where its
// state was handed over, and once quiet every child runs exactly once.
#include <signal.h>

#include <algorithm>
#include <thread>

#include "hub_process_fixture.h"

namespace {

using namespace plexus_test;

class HubHotSwapProcessTest : public HubProcessTest {
 protected:
  HubHotSwapProcessTest() {
    hub_args_ = {"--hub-migration", "hot_swap", "--hub-migr-timeout-ms", "3000"};
  }
};

// `plexusctl hub demo drain` and SIGTERM each take a node out of the hub
// with every counter's value: the children move off it by hot swap.
TEST_F(HubHotSwapProcessTest, ADrainAndASigtermHandEveryCounterOverWithItsValue) {
  std::set<std::string> ids = start_many("h", 300);
  ASSERT_FALSE(ids.empty());
  std::map<std::string, int> values;  // children of c and of b, raised
  for (const char* base : {"c", "b"}) {
    std::vector<std::string> here = local(base);
    ASSERT_GE(here.size(), 10u) << base;
    for (size_t i = 0; i < 5; ++i) {
      ASSERT_TRUE(raise("a", here[i], static_cast<int>(i) + 1));
      values[here[i]] = static_cast<int>(i) + 1;
    }
  }
  Ctl drain = ctl(d("c").name(), {"hub", "demo", "drain"});
  ASSERT_EQ(drain.code, 0) << drain.err;
  EXPECT_EQ(field(drain.lines.at(0), "drained"), "true") << drain.lines[0];
  Ctl status = ctl(d("c").name(), {"hub", "demo", "status"});
  EXPECT_EQ(field(status.lines.at(0), "alive"), "false") << status.lines[0];
  EXPECT_TRUE(local("c").empty());
  // The daemon runs on, out of the hub: the others settle without it.
  auto drained = std::move(daemons_["c"]);
  ASSERT_TRUE(settled(2));
  ASSERT_EQ(converged(ids), "");
  // SIGTERM: the daemon's hubs leave gracefully, the same way.
  ASSERT_TRUE(terminate("b"));
  ASSERT_TRUE(settled(1));
  ASSERT_EQ(converged(ids), "");
  for (const auto& [id, value] : values) EXPECT_EQ(value_of("a", id), std::to_string(value)) << id;
  drained.reset();
}

// kill -9 mid-handover: while c drains, b (the new home of about half of
// c's children) is stopped, so that its handovers hang, and then killed.
// The drain still ends, and every child runs once on the survivor.
TEST_F(HubHotSwapProcessTest, AKillOfTheNewHomeMidDrainLosesNoChild) {
  std::set<std::string> ids = start_many("m", 600);
  ASSERT_FALSE(ids.empty());
  size_t on_c = local("c").size();
  ASSERT_GT(on_c, 100u);
  pid_t b = d("b").process().pid();
  ASSERT_EQ(kill(b, SIGSTOP), 0);
  Ctl drain;
  std::thread draining([&] { drain = ctl(d("c").name(), {"hub", "demo", "drain"}); });
  // The moves to a are done while those to b hang: mid-handover.
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (local("c").size() == on_c) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "nothing moved to a";
  }
  d("b").process().kill_and_wait();
  daemons_["b"].reset();
  draining.join();
  ASSERT_EQ(drain.code, 0) << drain.err;
  EXPECT_TRUE(local("c").empty());
  auto drained = std::move(daemons_["c"]);
  ASSERT_TRUE(settled(1));
  EXPECT_EQ(converged(ids), "");
}

// A rolling restart: each node in turn gets SIGTERM (its children move off
// by hot swap, with their values), and starts again (a new node, on a new
// port; children move onto it by hot swap too). After the three, every
// child runs once and every raised counter has its value.
TEST_F(HubHotSwapProcessTest, ARollingRestartLosesNoChildAndNoHandedOverState) {
  std::set<std::string> ids = start_many("o", 300);
  ASSERT_FALSE(ids.empty());
  std::map<std::string, int> values;  // five children of each node, raised
  for (const char* base : {"a", "b", "c"}) {
    std::vector<std::string> here = local(base);
    ASSERT_GE(here.size(), 10u) << base;
    for (size_t i = 0; i < 5; ++i) {
      ASSERT_TRUE(raise("a", here[i], static_cast<int>(i) + 1));
      values[here[i]] = static_cast<int>(i) + 1;
    }
  }
  for (const char* base : {"a", "b", "c"}) {
    ASSERT_TRUE(terminate(base));
    ASSERT_TRUE(settled(2)) << "without " << base;
    ASSERT_EQ(converged(ids), "") << "without " << base;
    start(base);
    ASSERT_TRUE(settled(3)) << base << " back";
    ASSERT_EQ(converged(ids), "") << base << " back";
    EXPECT_FALSE(local(base).empty()) << base << " took no child back";
  }
  for (const auto& [id, value] : values) EXPECT_EQ(value_of("b", id), std::to_string(value)) << id;
}

// kill -9 of the old home mid-handover: c drains while b (the new home of
// about half of c's children) is stopped, so that its handovers hang; once
// the moves to a are done, c is killed and b continued. What c had not
// handed over starts again from nothing, once; what it had keeps its value.
TEST_F(HubHotSwapProcessTest, AKillOfTheOldHomeMidHandoverLosesNoChild) {
  std::set<std::string> ids = start_many("w", 600);
  ASSERT_FALSE(ids.empty());
  std::vector<std::string> on_c = local("c");
  ASSERT_GT(on_c.size(), 100u);
  for (size_t i = 0; i <= 20; ++i) ASSERT_TRUE(raise("a", on_c[i], 1));  // 21 raised to 1
  pid_t b = d("b").process().pid();
  ASSERT_EQ(kill(b, SIGSTOP), 0);
  auto stopped = std::move(daemons_["b"]);
  std::thread draining([&] {
    ctl(d("c").name(), {"--timeout-ms", "2000", "hub", "demo", "drain"});
  });
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (local("c").size() == on_c.size()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "nothing moved to a";
  }
  std::vector<std::string> on_a = local("a");  // handed over, state and all
  d("c").process().kill_and_wait();
  daemons_["c"].reset();
  ASSERT_EQ(kill(b, SIGCONT), 0);
  daemons_["b"] = std::move(stopped);
  draining.join();
  ASSERT_TRUE(settled(2));
  EXPECT_EQ(converged(ids), "");
  // Each raised counter that a ran before the kill kept its value; the
  // others either moved with it or started again.
  for (size_t i = 0; i <= 20; ++i) {
    std::string v = value_of("a", on_c[i]);
    bool handed_over = std::find(on_a.begin(), on_a.end(), on_c[i]) != on_a.end();
    EXPECT_TRUE(v == "1" || (!handed_over && v == "0")) << on_c[i] << " = " << v;
  }
}

}  // namespace

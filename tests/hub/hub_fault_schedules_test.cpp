// Fault schedules with real daemons that take longer than one fault: a
// link that flaps for a minute while children are started across it, three
// nodes that join at once, a kill -9 in the middle of the recovery from
// another, and one in the middle of a start. Checked once quiet: every
// acknowledged child is there, runs exactly once, and every registry is the
// same.
#include <algorithm>
#include <atomic>
#include <random>
#include <thread>

#include "hub_process_fixture.h"

namespace {

using namespace plexus_test;

// The ids in the registry of the daemon named `name`.
std::set<std::string> registry_of(const std::string& name) {
  std::set<std::string> ids;
  for (const std::string& l : ctl(name, {"hub", "demo", "list"}).lines) ids.insert(field(l, "id"));
  return ids;
}

class HubFaultScheduleTest : public HubProcessTest {
 protected:
  // Starts PREFIX0..PREFIX{n-1} through `via`: true if every one was
  // acknowledged.
  // Waits until the registry of `via` holds every one of what it holds
  // once quiet, and says why not: the ids it holds.
  std::set<std::string> quiet_registry(const std::string& via, std::string* why) {
    std::set<std::string> held;
    auto deadline = std::chrono::steady_clock::now() + kWait;
    do {
      held = registry_of(d(via).name());
      *why = converged(held, 1s);
    } while (!why->empty() && std::chrono::steady_clock::now() < deadline);
    return held;
  }
  bool start_batch(const std::string& via, const std::string& prefix, int n) {
    return start_batch_within(via, prefix, n, "5000");
  }
  bool start_batch_within(const std::string& via, const std::string& prefix, int n,
                          const std::string& timeout_ms) {
    Ctl many = ctl(d(via).name(), {"--timeout-ms", timeout_ms, "hub", "demo", "start-many", prefix,
                                   std::to_string(n), "--type", "counter"});
    return many.code == 0 && many.lines.size() == 1 &&
           field(many.lines[0], "started") == std::to_string(n);
  }
};

// The a-c link goes down and up every 1 to 3 s (a seeded schedule) for a
// minute, while batches of 20 children are started through c, one after
// the other.
TEST_F(HubFaultScheduleTest, ALinkThatFlapsForAMinuteLeavesEveryChildOnce) {
  std::set<std::string> expected = start_many("base", 200);
  ASSERT_FALSE(expected.empty());
  const std::string a = d("a").name(), c = d("c").name();
  std::atomic<bool> flapping{true};
  int batches = 0, acknowledged = 0;
  std::set<std::string> started;  // the batches acknowledged in full
  std::thread starter([&] {
    while (flapping.load()) {
      std::string prefix = "f" + std::to_string(batches++) + "_";
      if (start_batch("c", prefix, 20)) {
        ++acknowledged;
        for (int i = 0; i < 20; ++i) started.insert(prefix + std::to_string(i));
      }
    }
  });
  std::mt19937 rng(1);
  int flaps = 0;
  auto end = std::chrono::steady_clock::now() + 60s;
  for (bool down = true; std::chrono::steady_clock::now() < end; down = !down) {
    Ctl net = down ? ctl(a, {"net", "block", c}) : ctl(a, {"net", "unblock"});
    EXPECT_EQ(net.code, 0) << net.err;
    flaps += down;
    std::this_thread::sleep_for(std::chrono::milliseconds(1000 + rng() % 2000));
  }
  flapping = false;
  starter.join();
  ASSERT_EQ(ctl(a, {"net", "unblock"}).code, 0);
  expected.insert(started.begin(), started.end());
  EXPECT_GE(flaps, 10);  // a minute of 1-3 s halves: 10 downs at the least
  EXPECT_GT(acknowledged, 0) << batches << " batches, none acknowledged in full";
  ASSERT_TRUE(settled(3));
  // What the registries hold once quiet: every acknowledged child, each
  // once (a batch that was not acknowledged may have started some).
  std::string why;
  std::set<std::string> held = quiet_registry("a", &why);
  EXPECT_EQ(why, "");
  for (const std::string& id : expected) EXPECT_TRUE(held.count(id)) << id << " was lost";
}

// d, e and f start one right after the other, before any view has them:
// the six settle on one view and the children spread over them, once each.
TEST_F(HubFaultScheduleTest, ThreeNodesJoiningAtOnceSettleWithEveryChildOnce) {
  std::set<std::string> ids = start_many("j", 600);
  ASSERT_FALSE(ids.empty());
  for (const char* base : {"d", "e", "f"}) start(base);
  ASSERT_TRUE(settled(6));
  EXPECT_EQ(converged(ids), "");
  for (const char* base : {"d", "e", "f"}) {
    EXPECT_GT(local(base).size(), 0u) << base << " took no child";
  }
}

// kill -9 of c, and of b while a (and b) start what c ran: a alone ends
// with every child once; b and c started again, the three share them.
TEST_F(HubFaultScheduleTest, AKillMidRecoveryLeavesTheLastNodeWithEveryChild) {
  std::set<std::string> ids = start_many("r", 6000);
  ASSERT_FALSE(ids.empty());
  const std::string a = d("a").name();
  d("c").process().kill_and_wait();
  daemons_["c"].reset();
  // As soon as a is locked (the round of the view without c: the
  // recovery is under way), b goes too.
  bool locked = false;
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!locked && std::chrono::steady_clock::now() < deadline) {
    Ctl s = ctl(a, {"hub", "demo", "status"});
    locked = s.code == 0 && s.lines.size() == 1 && field(s.lines[0], "locked") == "true";
  }
  d("b").process().kill_and_wait();
  daemons_["b"].reset();
  ASSERT_TRUE(locked) << "no round was seen";
  ASSERT_TRUE(settled(1));
  EXPECT_EQ(converged(ids), "");
  start("b");
  start("c");
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "");
}

// kill -9 of c while a start of 10,000 through a is under way: the start
// is answered, every child started, and nothing runs twice or unnamed.
TEST_F(HubFaultScheduleTest, AKillMidStartStillStartsEveryChildOnce) {
  std::set<std::string> base = start_many("m", 300);
  ASSERT_FALSE(base.empty());
  std::atomic<bool> done{false};
  bool acknowledged = false;
  std::thread starter([&] {
    acknowledged = start_batch_within("a", "s", 10000, "30000");
    done = true;
  });
  // Once a's registry has some of the new ones (the start runs), c goes.
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!done.load() && std::chrono::steady_clock::now() < deadline) {
    std::set<std::string> held = registry_of(d("a").name());
    if (std::any_of(held.begin(), held.end(), [](const std::string& id) { return id[0] == 's'; })) {
      break;
    }
  }
  d("c").process().kill_and_wait();
  daemons_["c"].reset();
  starter.join();
  ASSERT_TRUE(settled(2));
  std::string why;
  std::set<std::string> held = quiet_registry("a", &why);
  EXPECT_EQ(why, "");
  for (const std::string& id : base) EXPECT_TRUE(held.count(id)) << id << " was lost";
  // The survivors can run them all: what c was asked to decide goes to
  // their deciders in the next view (Calls::decider_lost), and what c was
  // asked to run starts again there, so the start is answered in full.
  EXPECT_TRUE(acknowledged) << "the start did not start all 10,000";
  for (int i = 0; i < 10000; ++i) {
    EXPECT_TRUE(held.count("s" + std::to_string(i))) << "s" << i << " was acknowledged";
  }
}

}  // namespace

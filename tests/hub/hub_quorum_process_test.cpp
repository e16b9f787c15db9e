// The majority quorum with real daemons (`--hub-partition majority_quorum`):
// a node blocked from the others or killed has its children started
// elsewhere only after the fence, a SIGSTOP short of the fence starts none of
// them elsewhere, and a scale-down needs `plexusctl hub demo resize`. No child
// ever runs on two nodes at once, read from the processes themselves.
#include <signal.h>

#include <algorithm>
#include <thread>

#include "hub_process_fixture.h"

namespace {

using namespace plexus_test;

// The majority quorum with real daemons: tick 1 s, partition cut 1 s, view
// debounce 50 ms, 500 ms to stop: the fence must outlast 250 + 1000 + 50 +
// 500 ms.
class HubQuorumProcessTest : public HubProcessTest {
 protected:
  static constexpr auto kFence = 3000ms;
  HubQuorumProcessTest() {
    hub_args_ = {"--hub-partition",
                 "majority_quorum",
                 "--hub-initial-cluster-size",
                 "3",
                 "--hub-fence-margin-ms",
                 std::to_string(kFence.count()),
                 "--hub-partition-stop-ms",
                 "500"};
  }
  bool partitioned(const std::string& base) {
    Ctl status = ctl(d(base).name(), {"hub", "demo", "status"});
    return status.code == 0 && !status.lines.empty() &&
           field(status.lines[0], "partitioned") == "true";
  }
  // A child whose processes surely ran on two nodes at once: "" or which.
  // Reads every node's processes twice, in order; an id that x ran at both
  // its reads and y ran at a read in between overlapped there (a move,
  // which stops one copy before it starts the next, never looks so).
  std::string overlap(const std::vector<std::string>& bases) {
    std::vector<std::set<std::string>> first, second;
    for (auto* reads : {&first, &second}) {
      for (const std::string& base : bases) {
        std::vector<std::string> ids = local(base);
        reads->emplace_back(ids.begin(), ids.end());
      }
    }
    for (size_t x = 0; x < bases.size(); ++x) {
      for (size_t y = 0; y < bases.size(); ++y) {
        if (x == y) continue;
        // y's read between x's two: its first if it comes after x, else its second.
        const std::set<std::string>& between = y > x ? first[y] : second[y];
        for (const std::string& id : first[x]) {
          if (second[x].count(id) && between.count(id))
            return id + " ran on " + bases[x] + " and " + bases[y] + " at once";
        }
      }
    }
    return "";
  }
  // Waits until a and b run every one of `ids` once between them, checking
  // at each look that c runs none of them: how long it took, or -1.
  std::chrono::milliseconds until_majority_runs(const std::set<std::string>& ids,
                                                std::string* twice) {
    auto from = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - from < kWait) {
      std::map<std::string, int> runs;
      for (const char* n : {"a", "b"}) {
        for (const std::string& id : local(n)) ++runs[id];
      }
      if (daemons_["c"]) {
        for (const std::string& id : local("c")) ++runs[id];
      }
      for (const auto& [id, n] : runs) {
        if (n > 1 && twice->empty()) *twice = id + " runs " + std::to_string(n) + " times";
      }
      bool all = std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
        return runs.count(id) && runs[id] == 1;
      });
      if (all) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - from);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1ms;
  }
};

// c SIGSTOPped past failure detection (tick 1 s), and continued a second
// into the fence (3 s from the loss): a and b see it go, but start none of
// its children, since it may still run them; continued, it stops its stale
// copies at once (it finds itself cut off) and is back in their view before
// the fence lifts. At no time do two copies of a child run, and once quiet
// each runs once.
TEST_F(HubQuorumProcessTest, ASigstopShortOfTheFenceNeverRunsTwoCopies) {
  std::set<std::string> ids = start_many("f", 300);
  ASSERT_FALSE(ids.empty());
  std::vector<std::string> was_on_c = local("c");
  ASSERT_FALSE(was_on_c.empty());
  std::set<std::string> of_c(was_on_c.begin(), was_on_c.end());
  // "" or a child of c's that a or b runs.
  auto taken = [&]() -> std::string {
    for (const char* n : {"a", "b"}) {
      for (const std::string& id : local(n)) {
        if (of_c.count(id)) return std::string(n) + " runs " + id + " within the fence";
      }
    }
    return "";
  };
  pid_t c = d("c").process().pid();
  ASSERT_EQ(kill(c, SIGSTOP), 0);
  auto stopped = std::move(daemons_["c"]);
  auto paused = std::chrono::steady_clock::now();
  ASSERT_TRUE(settled(2)) << "a and b see c go";
  // The pause goes on for a second into the fence (the schedule, not a
  // wait for something), a and b watched all along.
  std::string early;
  for (auto hold = std::chrono::steady_clock::now() + 1s;
       early.empty() && std::chrono::steady_clock::now() < hold;) {
    early = taken();
  }
  ASSERT_LT(std::chrono::steady_clock::now() - paused, kFence - 500ms) << "too slow for the fence";
  ASSERT_EQ(kill(c, SIGCONT), 0);
  daemons_["c"] = std::move(stopped);
  std::string twice;
  for (auto until = std::chrono::steady_clock::now() + 2 * kFence;
       twice.empty() && std::chrono::steady_clock::now() < until;) {
    twice = overlap({"a", "b", "c"});
    if (early.empty()) early = taken();
  }
  EXPECT_EQ(early, "");
  EXPECT_EQ(twice, "");
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "");
}

// c is blocked from a and b: it stops its children and refuses starts, and
// a and b start them only after the fence; unblocked, one of each is left.
TEST_F(HubQuorumProcessTest, ABlockedMinorityStopsItsChildrenAndTheMajorityWaitsForTheFence) {
  std::set<std::string> ids = start_many("q", 300);
  ASSERT_FALSE(ids.empty());
  EXPECT_FALSE(partitioned("c"));
  ASSERT_FALSE(local("c").empty());
  const std::string c = d("c").name();
  ASSERT_EQ(ctl(c, {"net", "block", d("a").name(), d("b").name()}).code, 0);
  std::string twice;
  std::chrono::milliseconds took = until_majority_runs(ids, &twice);
  EXPECT_TRUE(twice.empty()) << twice;
  ASSERT_GE(took.count(), 0) << "a and b did not take over c's children";
  EXPECT_GE(took, kFence) << "started before the fence lifted";
  EXPECT_TRUE(partitioned("c"));
  EXPECT_TRUE(local("c").empty());
  EXPECT_FALSE(partitioned("a"));
  Ctl refused = ctl(c, {"hub", "demo", "start", "fresh", "--type", "counter"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE((refused.err + (refused.lines.empty() ? "" : refused.lines[0])).find("partitioned"),
            std::string::npos)
      << refused.err;
  ASSERT_EQ(ctl(c, {"net", "unblock"}).code, 0);
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "");
  EXPECT_FALSE(partitioned("c"));
  // A planned size, as plexusctl says it.
  Ctl resized = ctl(c, {"hub", "demo", "resize", "3"});
  ASSERT_EQ(resized.code, 0) << resized.err;
  EXPECT_EQ(field(resized.lines.at(0), "cluster_size"), "3");
  EXPECT_EQ(field(resized.lines.at(0), "node"), c);
  EXPECT_EQ(ctl(c, {"hub", "demo", "resize", "0"}).code, 2) << "usage";
  EXPECT_EQ(ctl(c, {"hub", "demo", "resize", "many"}).code, 2) << "usage";
}

// A scale-down under the majority quorum: c leaves (SIGTERM), which is no
// loss of quorum and is not fenced; then b, and a alone is partitioned
// until `hub demo resize 1` says one node is the cluster now.
TEST_F(HubQuorumProcessTest, AScaleDownToOneNodeNeedsResize) {
  std::set<std::string> ids = start_many("z", 300);
  ASSERT_FALSE(ids.empty());
  ASSERT_TRUE(terminate("c"));
  ASSERT_TRUE(settled(2));
  ASSERT_EQ(converged(ids), "");
  EXPECT_FALSE(partitioned("a"));
  ASSERT_TRUE(terminate("b"));
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!(partitioned("a") && local("a").empty()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(partitioned("a")) << "one of three is no majority";
  EXPECT_TRUE(local("a").empty());
  Ctl resized = ctl(d("a").name(), {"hub", "demo", "resize", "1"});
  ASSERT_EQ(resized.code, 0) << resized.err;
  EXPECT_EQ(converged(ids), "");
  EXPECT_FALSE(partitioned("a"));
}

// kill -9 of c: a and b start its children once the fence has passed.
TEST_F(HubQuorumProcessTest, AKilledNodesChildrenStartAfterTheFence) {
  std::set<std::string> ids = start_many("k", 300);
  ASSERT_FALSE(ids.empty());
  d("c").process().kill_and_wait();
  daemons_["c"].reset();
  std::string twice;
  std::chrono::milliseconds took = until_majority_runs(ids, &twice);
  EXPECT_TRUE(twice.empty()) << twice;
  EXPECT_GE(took, kFence);
  ASSERT_TRUE(settled(2));
  EXPECT_EQ(converged(ids), "");
}

}  // namespace

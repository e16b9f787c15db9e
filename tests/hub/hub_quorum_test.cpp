// The quorum strategies (issue "The hub, resilient", "Partition
// tolerance"): a member cut off from the majority stops its children,
// refuses starts with "partitioned" and serves no pid; the majority starts
// them again only after the fence margin, so no child ever runs twice; on
// heal every child runs once more where the strategy says.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "hub_cluster.h"
#include "plexus/hub/hub.h"
#include "plexus/strategies/majority_quorum.h"
#include "plexus/strategies/static_quorum.h"

namespace {

using namespace plexus_test;
namespace strategies = plexus::strategies;

// The nodes' tick_timeout is 60 s: a cut-off member may take 15 s + 1 s
// (partition_cut_delay) + 30 ms + 2 s to stop its children.
constexpr auto kFenceMargin = 20s;
constexpr int64_t kFenceMs = std::chrono::milliseconds(kFenceMargin).count();

hub::HubConfig majority_config(size_t initial = 3) {
  hub::HubConfig c = fast_config("quorum");
  c.partition_tolerance =
      std::make_shared<strategies::MajorityQuorum>(*strategies::MajorityQuorum::make(initial));
  c.fence_margin = kFenceMargin;
  return c;
}

class HubQuorumTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << logs_.dump();
  }

  // Starts `n` children through member 0 and waits for its answer.
  static void start_children(HubCluster& c, const std::string& prefix, int n) {
    auto f = c.hub(0).start_children(worker_specs(prefix, n), {.awaitable = true});
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE(c.net().run_until([&] { return f->ready(); }, 30s));
    ASSERT_TRUE(f->await(0ms)->ok());
  }

  // Runs until `done()`, checking at every step that no child runs twice;
  // false (with `overlap` set) if one did, or on timeout.
  static bool run_single(HubCluster& c, const std::function<bool()>& done,
                         std::chrono::milliseconds timeout, std::string* overlap) {
    bool ok = c.net().run_until(
        [&] {
          for (const auto& [id, where] : c.running().by_id) {
            if (where.size() > 1 && overlap->empty()) *overlap = id + " runs twice";
          }
          return !overlap->empty() || done();
        },
        timeout);
    return ok && overlap->empty();
  }

  // Why member `i` did not start child `id`, or "" if it did.
  static std::string refusal(HubCluster& c, size_t i, const std::string& id) {
    auto f = c.hub(i).start_child(worker_spec(id), {.awaitable = true});
    if (!f.ok()) return f.status().to_string();
    if (!c.net().run_until([&] { return f->ready(); }, 5s)) return "no answer";
    hub::StartResult r = *f->await(0ms);
    return r.errors.empty() ? "" : r.errors[0].reason;
  }

  // The children member `i` runs now.
  static std::set<std::string> on_member(HubCluster& c, size_t i) {
    std::set<std::string> out;
    for (const auto& [id, where] : c.running().by_id) {
      for (const auto& [node, pid] : where) {
        if (node == c.node(i).name()) out.insert(id);
      }
    }
    return out;
  }

  LogCapture logs_;
};

// a, b | c: c stops its children at once and refuses starts; a and b start
// them only after the fence margin; after the heal every child runs once,
// where the strategy places it.
TEST_F(HubQuorumTest, ACutOffMinorityStopsItsChildrenAndTheMajorityWaitsForTheFence) {
  HubCluster c(majority_config(), &logs_);
  for (const char* name : {"a", "b", "c"}) c.add(name);
  ASSERT_EQ(c.settle(), "");
  for (size_t i = 0; i < 3; ++i) EXPECT_FALSE(c.hub(i).is_partitioned()) << i;
  start_children(c, "q", 60);
  ASSERT_EQ(c.settle(), "");
  std::set<std::string> on_c = on_member(c, 2);
  ASSERT_GT(on_c.size(), 5u);
  const std::string some = *on_c.begin();

  int64_t cut_at = c.net().now_ms();
  c.net().cut(c.node(2).name(), c.node(0).name());
  c.net().cut(c.node(2).name(), c.node(1).name());
  std::string overlap;
  ASSERT_TRUE(run_single(
      c, [&] { return c.hub(2).is_partitioned() && on_member(c, 2).empty(); }, 5s, &overlap))
      << overlap;
  EXPECT_LE(c.net().now_ms() - cut_at, 2100) << "within partition_stop_timeout";
  EXPECT_FALSE(c.hub(0).is_partitioned());
  EXPECT_FALSE(c.hub(1).is_partitioned());
  // The cut-off member serves nothing and starts nothing.
  EXPECT_FALSE(c.hub(2).get_pid(some));
  EXPECT_EQ(refusal(c, 2, "fresh"), "partitioned");

  // Until the fence lifts, c's children run nowhere; then on a or b.
  auto restarted = [&] {
    for (const std::string& id : on_c) {
      if (c.running().copies(id) != 1) return false;
    }
    return true;
  };
  ASSERT_TRUE(run_single(c, restarted, 60s, &overlap)) << overlap;
  EXPECT_GE(c.net().now_ms() - cut_at, kFenceMs) << "started before the fence lifted";
  for (const std::string& id : on_c) EXPECT_TRUE(c.hub(0).get_pid(id)) << id;

  c.net().heal(c.node(2).name(), c.node(0).name());
  c.net().heal(c.node(2).name(), c.node(1).name());
  ASSERT_TRUE(run_single(
      c, [&] { return !c.hub(2).is_partitioned(); }, 30s, &overlap))
      << overlap;
  EXPECT_EQ(c.settle(), "");
  EXPECT_TRUE(overlap.empty()) << overlap;
}

// A member killed (kill -9 as the others see it) is fenced as a cut-off one
// would be: its children start elsewhere once the margin has passed, once.
TEST_F(HubQuorumTest, ACrashedMembersChildrenStartAfterTheFenceMargin) {
  HubCluster c(majority_config(), &logs_);
  for (const char* name : {"a", "b", "c"}) c.add(name);
  ASSERT_EQ(c.settle(), "");
  start_children(c, "k", 45);
  ASSERT_EQ(c.settle(), "");
  std::set<std::string> on_c = on_member(c, 2);
  ASSERT_FALSE(on_c.empty());
  int64_t crash_at = c.net().now_ms();
  c.crash(2);
  std::string overlap;
  ASSERT_TRUE(run_single(
      c, [&] { return c.settle(1ms).empty(); }, 60s, &overlap))
      << overlap;
  EXPECT_GE(c.net().now_ms() - crash_at, kFenceMs);
  EXPECT_EQ(c.settle(), "");
  // It comes back: a new incarnation, with quorum, and every child runs once.
  c.restart(2);
  EXPECT_EQ(c.settle(), "");
  EXPECT_FALSE(c.hub(2).is_partitioned());
}

// A graceful leave stops the leaver's children before it goes: nothing is
// fenced. Below the majority the last member is partitioned until a planned
// scale-down (reset_cluster_size) gives it quorum again, and then it runs
// every child.
TEST_F(HubQuorumTest, AScaleDownNeedsResetClusterSize) {
  HubCluster c(majority_config(), &logs_);
  for (const char* name : {"a", "b", "c"}) c.add(name);
  ASSERT_EQ(c.settle(), "");
  start_children(c, "s", 30);
  ASSERT_EQ(c.settle(), "");
  int64_t left_at = c.net().now_ms();
  hub::Future<plexus::Status> left = c.hub(2).stop();
  ASSERT_TRUE(c.net().run_until([&] { return left.ready(); }, 30s));
  ASSERT_TRUE(c.net().run_until(
      [&] { return c.hub(0).nodes(true).size() == 2 && c.running().by_id.size() == 30; }, 30s));
  EXPECT_LT(c.net().now_ms() - left_at, kFenceMs) << "a graceful leave is not fenced";
  EXPECT_FALSE(c.hub(0).is_partitioned());
  // Two of three is a majority; one is not.
  hub::Future<plexus::Status> second = c.hub(1).stop();
  ASSERT_TRUE(c.net().run_until([&] { return second.ready(); }, 30s));
  ASSERT_TRUE(c.net().run_until(
      [&] { return c.hub(0).is_partitioned() && c.running().by_id.empty(); }, 30s));
  ASSERT_TRUE(c.hub(0).reset_cluster_size(1).ok());
  ASSERT_TRUE(c.net().run_until(
      [&] { return !c.hub(0).is_partitioned() && c.running().by_id.size() == 30; }, 30s));
  for (const auto& [id, where] : c.running().by_id) {
    ASSERT_EQ(where.size(), 1u) << id;
    EXPECT_EQ(where[0].first, c.node(0).name()) << id;
  }
  EXPECT_EQ(c.hub(0).reset_cluster_size(0).code(), plexus::StatusCode::kInvalidArgument);
}

// ProcessHub's "static quorum" with startup_confirm: a member that starts
// alone is partitioned until enough members join.
TEST_F(HubQuorumTest, StaticQuorumWithStartupConfirmWaitsForItsMembers) {
  hub::HubConfig config = fast_config("static");
  config.partition_tolerance =
      std::make_shared<strategies::StaticQuorum>(*strategies::StaticQuorum::make(2, true));
  config.fence_margin = kFenceMargin;
  HubCluster c(config, &logs_);
  c.add("a");
  c.net().run_until([] { return false; }, 1s);
  EXPECT_TRUE(c.hub(0).is_partitioned());
  EXPECT_EQ(refusal(c, 0, "early"), "partitioned");
  c.add("b");
  ASSERT_EQ(c.settle(), "");
  EXPECT_FALSE(c.hub(0).is_partitioned());
  EXPECT_FALSE(c.hub(1).is_partitioned());
  start_children(c, "st", 10);
  EXPECT_EQ(c.settle(), "");
  // Divergence has no cluster size to reset.
  HubCluster d(fast_config("divergent"), &logs_);
  d.add("x");
  EXPECT_EQ(d.hub(0).reset_cluster_size(3).code(), plexus::StatusCode::kInvalidArgument);
}

}  // namespace

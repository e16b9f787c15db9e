// The partition strategies against ProcessHub's own scenarios
// (test/strategy/partition_tolerance and the integration suite's "static
// quorum with min of 7 nodes", "dynamic quorum ...", "majority quorum ...").
#include "plexus/strategies/partition_tolerance.h"

#include <gtest/gtest.h>

#include "plexus/strategies/dynamic_quorum.h"
#include "plexus/strategies/majority_quorum.h"
#include "plexus/strategies/static_quorum.h"

namespace plexus_test {
namespace {

using plexus::StatusCode;
using namespace plexus::strategies;

// A member's view of its cluster as it grows and shrinks, and the mode it
// ends in after each change (the hub's rule: a down may only enter
// partition mode, an up may only leave it).
class Member {
 public:
  Member(const PartitionTolerance& strategy, size_t reached, int64_t now = 0)
      : strategy_(strategy), reached_(reached) {
    MembershipChange c{MembershipChange::kStart, "", reached, now};
    partitioned_ = !strategy_.has_quorum(c, memory_);
  }
  bool up(const std::string& node, int64_t now = 0) {
    MembershipChange c{MembershipChange::kUp, node, ++reached_, now};
    if (strategy_.has_quorum(c, memory_)) partitioned_ = false;
    return partitioned_;
  }
  bool down(const std::string& node, int64_t now = 0) {
    MembershipChange c{MembershipChange::kDown, node, --reached_, now};
    if (!strategy_.has_quorum(c, memory_)) partitioned_ = true;
    return partitioned_;
  }
  bool resize(size_t size) {
    MembershipChange c{MembershipChange::kResize, "", reached_, 0, size};
    partitioned_ = !strategy_.has_quorum(c, memory_);
    return partitioned_;
  }
  bool partitioned() const { return partitioned_; }
  const QuorumMemory& memory() const { return memory_; }

 private:
  const PartitionTolerance& strategy_;
  size_t reached_;
  QuorumMemory memory_;
  bool partitioned_ = false;
};

TEST(PartitionToleranceTest, DivergenceNeverPartitions) {
  Divergence d;
  EXPECT_FALSE(d.uses_quorum());
  Member m(d, 3);
  EXPECT_FALSE(m.down("b"));
  EXPECT_FALSE(m.down("c"));
  EXPECT_EQ(describe(d), "divergence()");
}

TEST(PartitionToleranceTest, StaticQuorumOfSevenWithStartupConfirm) {
  auto q = StaticQuorum::make(7, true);
  ASSERT_TRUE(q.ok());
  Member m(*q, 6);
  EXPECT_TRUE(m.partitioned());  // 6 at start, confirmed
  m.up("n7");
  EXPECT_FALSE(m.up("n8"));    // 8
  EXPECT_FALSE(m.down("n8"));  // 7
  EXPECT_TRUE(m.down("n7"));   // 6
  EXPECT_EQ(describe(*q), "static_quorum(quorum_size=7,startup_confirm=true)");
}

TEST(PartitionToleranceTest, StaticQuorumWithoutStartupConfirmCountsOnlyLosses) {
  auto q = StaticQuorum::make(4);
  ASSERT_TRUE(q.ok());
  Member m(*q, 1);
  EXPECT_FALSE(m.partitioned());
  EXPECT_FALSE(m.up("b"));  // 2 of 4, but nothing was lost
  EXPECT_TRUE(m.down("b"));
  m.up("b");
  m.up("c");
  EXPECT_FALSE(m.up("d"));  // 4: quorum again
  EXPECT_EQ(StaticQuorum::make(0).status().code(), StatusCode::kInvalidArgument);
}

TEST(PartitionToleranceTest, DynamicQuorumOfEightyPercent) {
  auto q = DynamicQuorum::make(80, std::chrono::hours(1));
  ASSERT_TRUE(q.ok());
  Member m(*q, 6);
  for (const char* n : {"n7", "n8", "n9", "n10"}) EXPECT_FALSE(m.up(n));
  EXPECT_FALSE(m.down("n10", 1000));  // 9 + 1 lost: 90 %
  EXPECT_FALSE(m.down("n9", 2000));   // 80 %: not below
  EXPECT_TRUE(m.down("n8", 3000));    // 70 %
  EXPECT_EQ(m.memory().down.size(), 3u);
  // One comes back: 8 reached, 2 lost, 80 % again.
  EXPECT_FALSE(m.up("n8", 4000));
  EXPECT_EQ(describe(*q), "dynamic_quorum(quorum_percent=80,threshold_time_ms=3600000)");
}

TEST(PartitionToleranceTest, DynamicQuorumForgetsLossesAfterThresholdTime) {
  auto q = DynamicQuorum::make(60, std::chrono::seconds(30));
  ASSERT_TRUE(q.ok());
  Member m(*q, 5);
  EXPECT_FALSE(m.down("e", 0));       // 4 + 1: 80 %
  EXPECT_FALSE(m.down("d", 40'000));  // e forgotten: 3 + 1, 75 %
  EXPECT_FALSE(m.down("c", 80'000));  // 2 + 1, 66 %
  EXPECT_TRUE(m.down("b", 85'000));   // c and b within 30 s: 1 + 2, 33 %
  // A second loss of one member counts once.
  Member again(*q, 3);
  again.down("c", 0);
  again.up("c", 10);
  EXPECT_FALSE(again.down("c", 20));  // 2 + 1: 66 %
  EXPECT_EQ(again.memory().down.size(), 1u);
  EXPECT_EQ(DynamicQuorum::make(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DynamicQuorum::make(101).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(DynamicQuorum::make(50, std::chrono::milliseconds(0)).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(PartitionToleranceTest, MajorityQuorumTracksTheLargestCluster) {
  auto q = MajorityQuorum::make();
  ASSERT_TRUE(q.ok());
  Member m(*q, 6);
  EXPECT_FALSE(m.partitioned());
  for (const char* n : {"n7", "n8", "n9", "n10"}) m.up(n);
  EXPECT_EQ(m.memory().max_seen, 10u);
  EXPECT_FALSE(m.down("n10"));  // 9
  m.down("n9");
  EXPECT_FALSE(m.down("n8"));  // 7
  EXPECT_FALSE(m.down("n7"));  // 6 == 10 / 2 + 1
  EXPECT_TRUE(m.down("n6"));   // 5
  // A planned scale-down: five is the cluster now.
  EXPECT_FALSE(m.resize(5));
  EXPECT_EQ(m.memory().max_seen, 5u);
  EXPECT_TRUE(q->resizable());
}

TEST(PartitionToleranceTest, MajorityQuorumSizes) {
  for (size_t n = 1; n <= 6; ++n) {
    auto q = MajorityQuorum::make(n, false);
    ASSERT_TRUE(q.ok());
    Member m(*q, n);
    EXPECT_FALSE(m.partitioned()) << n;
    for (size_t left = n; left > n / 2 + 1; --left) m.down("n" + std::to_string(left));
    if (n > 1) {
      EXPECT_TRUE(m.down("last")) << n;  // quorum - 1
    }
  }
  // Five expected, one started: cut off from the start.
  EXPECT_TRUE(Member(*MajorityQuorum::make(5), 1).partitioned());
  EXPECT_FALSE(Member(*MajorityQuorum::make(3), 2).partitioned());
  // A 5-node split 3 | 2.
  // Member keeps a reference: the strategy must outlive it.
  auto majority = MajorityQuorum::make();
  ASSERT_TRUE(majority.ok());
  Member three(*majority, 5), two(*majority, 5);
  three.down("d");
  EXPECT_FALSE(three.down("e"));
  two.down("a");
  two.down("b");
  EXPECT_TRUE(two.down("c"));
  EXPECT_EQ(MajorityQuorum::make(0).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plexus_test

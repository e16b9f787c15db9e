// BoundedLoad: no member above `balance` times the mean, and consistent
// hashing's choice whenever it has room.
#include "plexus/strategies/bounded_load.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "plexus/strategies/consistent_hashing.h"
#include "plexus/strategies/segments.h"
#include "strategy_test_support.h"

namespace plexus_test {
namespace {

using plexus::strategies::BoundedLoad;
using plexus::strategies::ConsistentHashing;
using plexus::strategies::NodeLoads;
using plexus::strategies::PlacementInput;
using plexus::strategies::Segments;
using plexus::strategies::View;

TEST(BoundedLoadTest, TheBalanceMustBeAboveOne) {
  for (double bad : {1.0, 0.5, -2.0, std::nan(""), std::numeric_limits<double>::infinity()}) {
    EXPECT_FALSE(BoundedLoad::make(bad).ok()) << bad;
  }
  EXPECT_EQ(describe(*BoundedLoad::make(1.25)), "bounded_load(balance=1.25)");
  EXPECT_TRUE(BoundedLoad::make()->records_placement());
}

// Members that start unevenly loaded (one holds 12,000 already) get the new
// children so that none ends above ceil(balance * mean), and the loaded one
// gets new children again once the others have caught up.
TEST(BoundedLoadTest, NoMemberEndsAboveBalanceTimesTheMean) {
  BoundedLoad bounded = *BoundedLoad::make(1.1);
  Segments segments = *Segments::make();
  View view = view_of(4);
  NodeLoads loads{{"n0@h:1", 12000}};
  std::vector<std::string> ids = child_ids(50000);
  for (const std::string& id : ids) {
    PlacementInput input{
        .child_id = id, .segment = segments.of(id), .view = &view, .loads = &loads};
    std::vector<std::string> nodes = bounded.place(input);
    ASSERT_EQ(nodes.size(), 1u);
    ++loads[nodes[0]];
  }
  uint64_t total = 12000 + ids.size();
  auto bound = static_cast<uint64_t>(std::ceil(1.1 * total / 4.0));
  ASSERT_EQ(loads.size(), 4u);
  for (const auto& [node, load] : loads) EXPECT_LE(load, bound) << node;
  EXPECT_GT(loads["n0@h:1"], 12000u);
}

// With every member under the bound, it places exactly as consistent hashing.
TEST(BoundedLoadTest, WithRoomEverywhereItPlacesAsConsistentHashing) {
  BoundedLoad bounded = *BoundedLoad::make();
  Segments segments = *Segments::make();
  View view = view_of(5);
  NodeLoads even{
      {"n0@h:1", 100}, {"n1@h:1", 100}, {"n2@h:1", 100}, {"n3@h:1", 100}, {"n4@h:1", 100}};
  for (const std::string& id : child_ids(2000)) {
    PlacementInput input{
        .child_id = id, .segment = segments.of(id), .replicas = 2, .view = &view, .loads = &even};
    EXPECT_EQ(bounded.place(input), ConsistentHashing().place(input)) << id;
  }
}

// A recorded member stays; a recorded node that left is replaced.
TEST(BoundedLoadTest, RecordedMembersStayAndLostOnesAreReplaced) {
  BoundedLoad bounded = *BoundedLoad::make();
  View view = view_of(3);
  std::vector<std::string> recorded{"n2@h:1", "gone@h:1"};
  PlacementInput input{.child_id = "a", .replicas = 2, .view = &view, .recorded = &recorded};
  std::vector<std::string> nodes = bounded.place(input);
  ASSERT_EQ(nodes.size(), 2u);
  EXPECT_EQ(nodes[0], "n2@h:1");
  EXPECT_NE(nodes[1], "n2@h:1");
  EXPECT_TRUE(view.contains(nodes[1]));
}

}  // namespace
}  // namespace plexus_test

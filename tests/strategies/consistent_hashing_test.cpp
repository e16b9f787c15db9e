// ConsistentHashing: placement from the id and the view alone, with minimal
// movement when members come and go.
#include "plexus/strategies/consistent_hashing.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "plexus/strategies/segments.h"
#include "strategy_test_support.h"

namespace plexus_test {
namespace {

using plexus::strategies::ConsistentHashing;
using plexus::strategies::Member;
using plexus::strategies::PlacementInput;
using plexus::strategies::Segments;
using plexus::strategies::View;

constexpr int kChildren = 100000;

std::vector<std::string> place(const std::string& id, const View& view, int replicas = 1) {
  static const Segments segments = *Segments::make();
  PlacementInput input{
      .child_id = id, .segment = segments.of(id), .replicas = replicas, .view = &view};
  return ConsistentHashing().place(input);
}

// The primary of each of `ids` in `view`.
std::vector<std::string> primaries(const std::vector<std::string>& ids, const View& view) {
  std::vector<std::string> out;
  out.reserve(ids.size());
  for (const std::string& id : ids) out.push_back(place(id, view).at(0));
  return out;
}

View with_member(const View& view, const std::string& node) {
  std::vector<Member> members = view.members();
  members.push_back({node, 1});
  return View(view.number() + 1, std::move(members));
}

View without_member(const View& view, const std::string& node) {
  std::vector<Member> members;
  for (const Member& m : view.members()) {
    if (m.node != node) members.push_back(m);
  }
  return View(view.number() + 1, std::move(members));
}

TEST(ConsistentHashingTest, NamesItselfAndRecordsNothing) {
  ConsistentHashing ch;
  EXPECT_EQ(ch.name(), "consistent_hashing");
  EXPECT_EQ(ch.parameters(), "");
  EXPECT_FALSE(ch.records_placement());
  EXPECT_EQ(describe(ch), "consistent_hashing()");
}

TEST(ConsistentHashingTest, PlacesOnDistinctMembersAndOnAllWhenThereAreFewer) {
  View view = view_of(5);
  for (const std::string& id : child_ids(1000)) {
    std::vector<std::string> nodes = place(id, view, 3);
    ASSERT_EQ(nodes.size(), 3u);
    EXPECT_EQ(std::set<std::string>(nodes.begin(), nodes.end()).size(), 3u) << id;
    for (const std::string& n : nodes) EXPECT_TRUE(view.contains(n));
    EXPECT_EQ(place(id, view, 1).at(0), nodes.at(0)) << "the primary does not depend on the factor";
  }
  EXPECT_EQ(place("child1", view_of(2), 3).size(), 2u);
  EXPECT_TRUE(place("child1", View(), 1).empty());
}

// The same view gives the same nodes, whatever the order members were
// listed in (every node computes placement on its own).
TEST(ConsistentHashingTest, TheSameViewGivesTheSameNodes) {
  View forward(1, {{"a@h:1", 1}, {"b@h:1", 1}, {"c@h:1", 1}});
  View backward(9, {{"c@h:1", 1}, {"b@h:1", 1}, {"a@h:1", 1}});
  for (const std::string& id : child_ids(1000))
    EXPECT_EQ(place(id, forward, 2), place(id, backward, 2));
}

// A join moves to the new member about 1/(n+1) of the children, and only to
// it (the target: within 10% of 1/(n+1)).
TEST(ConsistentHashingTest, AJoinMovesAboutOneInNPlusOneChildrenAllToTheNewMember) {
  std::vector<std::string> ids = child_ids(kChildren);
  for (int n = 1; n <= 9; ++n) {
    View before = view_of(n);
    std::string joiner = "n" + std::to_string(n) + "@h:1";
    View after = with_member(before, joiner);
    std::vector<std::string> was = primaries(ids, before);
    std::vector<std::string> is = primaries(ids, after);
    int moved = 0;
    for (size_t i = 0; i < ids.size(); ++i) {
      if (was[i] == is[i]) continue;
      ++moved;
      EXPECT_EQ(is[i], joiner) << ids[i] << " moved between two old members";
    }
    double expected = 1.0 / (n + 1);
    double fraction = static_cast<double>(moved) / kChildren;
    EXPECT_NEAR(fraction, expected, expected * 0.10) << "join of member " << n + 1;
  }
}

// A leave moves only the children of the member that left.
TEST(ConsistentHashingTest, ALeaveMovesOnlyTheLeaversChildren) {
  std::vector<std::string> ids = child_ids(kChildren);
  View before = view_of(5);
  std::string leaver = "n2@h:1";
  View after = without_member(before, leaver);
  std::vector<std::string> was = primaries(ids, before);
  std::vector<std::string> is = primaries(ids, after);
  int had = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (was[i] == leaver) {
      ++had;
      EXPECT_NE(is[i], leaver);
    } else {
      EXPECT_EQ(was[i], is[i]) << ids[i] << " moved though its member stayed";
    }
  }
  EXPECT_NEAR(static_cast<double>(had) / kChildren, 0.2, 0.02);
}

// A member that restarts (same name, new creation) gets its children back.
TEST(ConsistentHashingTest, ARestartedMemberKeepsItsChildren) {
  std::vector<std::string> ids = child_ids(10000);
  View before = view_of(3);
  std::vector<Member> members = before.members();
  members[1].creation = 2;
  View after(before.number() + 1, members);
  EXPECT_EQ(primaries(ids, before), primaries(ids, after));
}

// With a factor of 2, a leave keeps each child's surviving copy where it is.
TEST(ConsistentHashingTest, ALeaveKeepsTheSurvivingReplicas) {
  View before = view_of(4);
  View after = without_member(before, "n0@h:1");
  for (const std::string& id : child_ids(5000)) {
    std::vector<std::string> was = place(id, before, 2);
    std::vector<std::string> is = place(id, after, 2);
    for (const std::string& node : was) {
      if (node != "n0@h:1") EXPECT_NE(std::find(is.begin(), is.end(), node), is.end()) << id;
    }
  }
}

}  // namespace
}  // namespace plexus_test

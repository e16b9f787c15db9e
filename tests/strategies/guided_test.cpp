// Guided: the start call's mapping, its four errors, and recorded nodes.
#include "plexus/strategies/guided.h"

#include <gtest/gtest.h>

#include "strategy_test_support.h"

namespace plexus_test {
namespace {

using plexus::StatusCode;
using plexus::strategies::ChildMapping;
using plexus::strategies::Guided;
using plexus::strategies::PlacementInput;
using plexus::strategies::View;

// The first word of an error: ProcessHub's atom.
std::string reason(const plexus::Status& status) {
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument) << status;
  return status.message().substr(0, status.message().find(':'));
}

TEST(GuidedTest, NamesItselfAndRecordsItsPlacement) {
  EXPECT_EQ(describe(Guided()), "guided()");
  EXPECT_TRUE(Guided().records_placement());
}

TEST(GuidedTest, AStartWithoutAMappingIsMissingChildMapping) {
  EXPECT_EQ(reason(Guided().check_start({"a"}, nullptr, 1, view_of(2))), "missing_child_mapping");
}

TEST(GuidedTest, AChildWithoutAnEntryIsChildMappingMismatch) {
  ChildMapping mapping{{"a", {"n0@h:1"}}};
  EXPECT_EQ(reason(Guided().check_start({"a", "b"}, &mapping, 1, view_of(2))),
            "child_mapping_mismatch");
}

TEST(GuidedTest, AnEntryOfTheWrongLengthIsChildReplicationMismatch) {
  ChildMapping mapping{{"a", {"n0@h:1", "n1@h:1"}}};
  EXPECT_EQ(reason(Guided().check_start({"a"}, &mapping, 1, view_of(2))),
            "child_replication_mismatch");
  EXPECT_TRUE(Guided().check_start({"a"}, &mapping, 2, view_of(2)).ok());
}

TEST(GuidedTest, AnEmptyEntryARepeatedNodeOrANonMemberIsInvalidChildMapping) {
  View view = view_of(2);
  for (const ChildMapping& bad :
       {ChildMapping{{"a", {}}}, ChildMapping{{"a", {"n0@h:1", "n0@h:1"}}},
        ChildMapping{{"a", {"stranger@h:1"}}}}) {
    EXPECT_EQ(reason(Guided().check_start({"a"}, &bad, static_cast<int>(bad.at("a").size()), view)),
              "invalid_child_mapping");
  }
}

TEST(GuidedTest, PlacesANewChildOnItsMappedNodesInOrder) {
  View view = view_of(3);
  ChildMapping mapping{{"a", {"n2@h:1", "n0@h:1"}}};
  ASSERT_TRUE(Guided().check_start({"a"}, &mapping, 2, view).ok());
  PlacementInput input{.child_id = "a", .replicas = 2, .view = &view, .mapping = &mapping};
  EXPECT_EQ(Guided().place(input), (std::vector<std::string>{"n2@h:1", "n0@h:1"}));
}

// Recorded nodes win over any mapping; those that left are skipped, and a
// child whose nodes all left is placed nowhere (not moved elsewhere).
TEST(GuidedTest, AnExistingChildStaysOnItsRecordedNodesThatAreMembers) {
  View view = view_of(3);
  std::vector<std::string> recorded{"n1@h:1", "gone@h:1"};
  PlacementInput input{.child_id = "a", .replicas = 2, .view = &view, .recorded = &recorded};
  EXPECT_EQ(Guided().place(input), (std::vector<std::string>{"n1@h:1"}));
  std::vector<std::string> all_gone{"gone@h:1"};
  input.recorded = &all_gone;
  EXPECT_TRUE(Guided().place(input).empty());
}

}  // namespace
}  // namespace plexus_test

// View: members sorted and unique by name, the newest creation kept.
#include "plexus/strategies/view.h"

#include <gtest/gtest.h>

namespace plexus_test {
namespace {

using plexus::strategies::Member;
using plexus::strategies::View;

TEST(ViewTest, MembersAreSortedByNameAndTheNewestCreationOfANameIsKept) {
  View view(7, {{"c@h:1", 1}, {"a@h:1", 5}, {"b@h:1", 2}, {"a@h:1", 9}, {"a@h:1", 3}});
  EXPECT_EQ(view.number(), 7u);
  ASSERT_EQ(view.size(), 3u);
  EXPECT_EQ(view.members()[0], (Member{"a@h:1", 9}));
  EXPECT_EQ(view.members()[1], (Member{"b@h:1", 2}));
  EXPECT_EQ(view.members()[2], (Member{"c@h:1", 1}));
}

TEST(ViewTest, FindsAMemberByName) {
  View view(1, {{"b@h:1", 2}, {"a@h:1", 1}});
  ASSERT_NE(view.find("b@h:1"), nullptr);
  EXPECT_EQ(view.find("b@h:1")->creation, 2u);
  EXPECT_TRUE(view.contains("a@h:1"));
  EXPECT_FALSE(view.contains("c@h:1"));
  EXPECT_FALSE(View().contains("a@h:1"));
  EXPECT_TRUE(View().empty());
}

}  // namespace
}  // namespace plexus_test

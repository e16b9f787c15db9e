#include "plexus/strategies/singularity.h"

#include <gtest/gtest.h>

#include "strategy_test_support.h"

namespace plexus_test {
namespace {

TEST(SingularityTest, OneCopyWhateverTheView) {
  plexus::strategies::Singularity one;
  EXPECT_EQ(one.name(), "singularity");
  EXPECT_EQ(describe(one), "singularity()");
  EXPECT_EQ(one.replication_factor(view_of(1)), 1);
  EXPECT_EQ(one.replication_factor(view_of(50)), 1);
}

}  // namespace
}  // namespace plexus_test

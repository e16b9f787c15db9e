// Segments and the stable hash they rest on.
#include "plexus/strategies/segments.h"

#include <gtest/gtest.h>

#include <vector>

#include "plexus/strategies/stable_hash.h"
#include "strategy_test_support.h"

namespace plexus_test {
namespace {

using plexus::StatusCode;
using plexus::strategies::Segments;
using plexus::strategies::stable_hash;

// XXH3-64's published values: a hash that changes with the machine, the
// compiler or the library version would place children differently on
// different nodes.
TEST(StableHashTest, IsXxh3WithItsPublishedValues) {
  EXPECT_EQ(stable_hash(""), 0x2D06800538D394C2ull);
  EXPECT_EQ(stable_hash("", 0), stable_hash(std::string_view()));
  EXPECT_NE(stable_hash("abc", 0), stable_hash("abc", 1)) << "the seed matters";
  EXPECT_EQ(stable_hash("child42"), stable_hash(std::string("child42")));
}

TEST(SegmentsTest, TheCountIsAPowerOfTwoUpToAMillion) {
  EXPECT_EQ(Segments::make()->count(), 4096u);
  EXPECT_EQ(Segments::make(1)->count(), 1u);
  EXPECT_EQ(Segments::make(1u << 20)->count(), 1u << 20);
  for (uint32_t bad : {0u, 3u, 4095u, 1u << 21}) {
    auto made = Segments::make(bad);
    ASSERT_FALSE(made.ok()) << bad;
    EXPECT_EQ(made.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(made.status().message().find(std::to_string(bad)), std::string::npos);
  }
}

// 100,000 ids over 64 segments: each within 10% of the mean.
TEST(SegmentsTest, IdsSpreadEvenlyOverTheSegments) {
  Segments segments = *Segments::make(64);
  std::vector<int> counts(64);
  for (const std::string& id : child_ids(100000)) ++counts.at(segments.of(id));
  for (int c : counts) {
    EXPECT_GT(c, 100000 / 64 * 9 / 10);
    EXPECT_LT(c, 100000 / 64 * 11 / 10);
  }
}

}  // namespace
}  // namespace plexus_test

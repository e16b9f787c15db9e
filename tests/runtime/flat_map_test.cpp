// The link and monitor tables' hash map, checked against std::unordered_map.
#include "flat_map.h"

#include <gtest/gtest.h>

#include <random>
#include <unordered_map>

#include "plexus/pid.h"

namespace plexus_test {
namespace {

using plexus::Pid;
using plexus::Ref;
using plexus::detail::FlatMap;

TEST(FlatMapTest, EmptyMapFindsNothing) {
  FlatMap<Ref, Pid> map;
  EXPECT_EQ(map.find(Ref{1}), nullptr);
  EXPECT_FALSE(map.erase(Ref{1}));
  EXPECT_TRUE(map.empty());
}

TEST(FlatMapTest, InsertKeepsTheFirstValueForAKey) {
  FlatMap<Ref, Pid> map;
  EXPECT_TRUE(map.insert(Ref{7}, Pid{0, 1, 1}));
  EXPECT_FALSE(map.insert(Ref{7}, Pid{0, 2, 1}));
  ASSERT_NE(map.find(Ref{7}), nullptr);
  EXPECT_EQ(*map.find(Ref{7}), (Pid{0, 1, 1}));
  EXPECT_EQ(map.size(), 1u);
}

TEST(FlatMapTest, EraseReturnsTheValue) {
  FlatMap<Pid, uint8_t> map;
  map.insert(Pid{0, 3, 9}, 5);
  uint8_t v = 0;
  EXPECT_TRUE(map.erase(Pid{0, 3, 9}, &v));
  EXPECT_EQ(v, 5);
  EXPECT_FALSE(map.contains(Pid{0, 3, 9}));
}

// Random inserts and erases (including keys that collide in a small table)
// agree with std::unordered_map at every step.
TEST(FlatMapTest, MatchesUnorderedMapUnderRandomOperations) {
  FlatMap<Ref, Pid> map;
  std::unordered_map<uint64_t, Pid> model;
  std::mt19937_64 rng(42);
  for (int step = 0; step < 200000; ++step) {
    uint64_t key = rng() % 2000 + 1;
    Pid value{0, static_cast<uint32_t>(rng() % 1000), static_cast<uint32_t>(step + 1)};
    if (rng() % 3 == 0) {
      Pid out;
      bool erased = map.erase(Ref{key}, &out);
      auto it = model.find(key);
      ASSERT_EQ(erased, it != model.end()) << "step " << step;
      if (erased) {
        EXPECT_EQ(out, it->second);
        model.erase(it);
      }
    } else {
      bool inserted = map.insert(Ref{key}, value);
      ASSERT_EQ(inserted, model.emplace(key, value).second) << "step " << step;
    }
    ASSERT_EQ(map.size(), model.size());
  }
  for (const auto& [key, value] : model) {
    ASSERT_NE(map.find(Ref{key}), nullptr);
    EXPECT_EQ(*map.find(Ref{key}), value);
  }
  size_t visited = 0;
  map.for_each([&](const Ref& ref, const Pid& pid) {
    ++visited;
    EXPECT_EQ(model.at(ref.id), pid);
  });
  EXPECT_EQ(visited, model.size());
}

}  // namespace
}  // namespace plexus_test

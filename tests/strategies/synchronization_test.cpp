// The synchronization strategies: how a change's receivers are cut into
// parts.
#include "plexus/strategies/synchronization.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <set>

namespace plexus_test {
namespace {

using namespace std::chrono_literals;
using plexus::StatusCode;
using namespace plexus::strategies;

std::vector<std::string> names(size_t n) {
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back("n" + std::to_string(i));
  return out;
}

TEST(SynchronizationTest, PubSubSendsToEveryMemberItself) {
  PubSub p;
  auto parts = p.split(names(5), 7);
  ASSERT_EQ(parts.size(), 5u);
  for (size_t i = 0; i < parts.size(); ++i)
    EXPECT_EQ(parts[i], std::vector<std::string>{names(5)[i]});
  EXPECT_FALSE(p.acknowledged());
  EXPECT_EQ(describe(p), "pubsub()");
}

TEST(SynchronizationTest, GossipCutsIntoFanoutPartsOfNearlyEqualSize) {
  Gossip g = *Gossip::make(3);
  for (size_t n : {1u, 2u, 3u, 4u, 10u, 99u}) {
    auto parts = g.split(names(n), 42);
    EXPECT_EQ(parts.size(), std::min<size_t>(3, n)) << n;
    std::multiset<std::string> all;
    size_t smallest = SIZE_MAX, largest = 0;
    for (const auto& part : parts) {
      EXPECT_FALSE(part.empty());
      all.insert(part.begin(), part.end());
      smallest = std::min(smallest, part.size());
      largest = std::max(largest, part.size());
    }
    std::vector<std::string> given = names(n);
    EXPECT_EQ(all, std::multiset<std::string>(given.begin(), given.end())) << n;
    EXPECT_LE(largest - smallest, 1u) << n;
  }
}

TEST(SynchronizationTest, GossipCutsAlikeEverywhereAndDiffersFromChangeToChange) {
  Gossip g = *Gossip::make(2);
  std::vector<std::string> shuffled = names(20);
  std::reverse(shuffled.begin(), shuffled.end());
  EXPECT_EQ(g.split(names(20), 5), g.split(shuffled, 5)) << "the order given does not matter";
  EXPECT_NE(g.split(names(20), 5), g.split(names(20), 6)) << "each change has its own tree";
  // A part cut again keeps its order: the rest of the first part is the
  // first part of its cut.
  auto parts = g.split(names(20), 5);
  std::vector<std::string> rest(parts[0].begin() + 1, parts[0].end());
  auto again = g.split(rest, 5);
  std::vector<std::string> joined;
  for (const auto& p : again) joined.insert(joined.end(), p.begin(), p.end());
  EXPECT_EQ(joined, rest);
}

// Every member reached once, in about log_fanout(n) hops, by n - 1 sends.
TEST(SynchronizationTest, AGossipTreeReachesEveryMemberOnceInLogHops) {
  for (size_t fanout : {2u, 3u, 5u}) {
    Gossip g = *Gossip::make(fanout);
    const size_t n = 100;
    std::map<std::string, int> reached;
    size_t sends = 0, depth = 0;
    struct Hop {
      std::vector<std::string> part;
      size_t depth;
    };
    std::vector<Hop> todo{{names(n), 0}};
    todo[0].part.erase(todo[0].part.begin());  // n0 is the origin
    while (!todo.empty()) {
      Hop hop = std::move(todo.back());
      todo.pop_back();
      if (hop.part.empty()) continue;
      for (auto& part : g.split(hop.part, 11)) {
        ++sends;
        ++reached[part.front()];
        depth = std::max(depth, hop.depth + 1);
        todo.push_back({std::vector<std::string>(part.begin() + 1, part.end()), hop.depth + 1});
      }
    }
    EXPECT_EQ(sends, n - 1) << fanout;
    EXPECT_EQ(reached.size(), n - 1) << fanout;
    for (const auto& [node, times] : reached) EXPECT_EQ(times, 1) << node;
    size_t log = 0;
    for (size_t covered = 1; covered < n; covered *= fanout) ++log;
    EXPECT_LE(depth, log + 1) << fanout;
  }
}

TEST(SynchronizationTest, GossipOptionsAreChecked) {
  EXPECT_EQ(Gossip::make(0).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Gossip::make(3, 0ms).status().code(), StatusCode::kInvalidArgument);
  auto bad = Gossip::make(3, 2s, 1s);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("ttl"), std::string::npos) << bad.status().message();
  Gossip g = *Gossip::make(4, 500ms, 9s);
  EXPECT_EQ(describe(g), "gossip(fanout=4,ack_timeout_ms=500,ttl_ms=9000)");
  EXPECT_TRUE(g.acknowledged());
  EXPECT_EQ(g.ack_timeout(), 500ms);
  EXPECT_EQ(g.ttl(), 9s);
}

}  // namespace
}  // namespace plexus_test

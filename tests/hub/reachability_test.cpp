// Reachability: the cut of a partition that is not transitive into groups in
// which every pair is connected, alone and over seeded random graphs.
#include "reachability.h"

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace plexus_test {
namespace {

using plexus::hub::detail::Reachability;
using plexus::hub::detail::ReachReport;
using Names = std::set<std::string>;

// Members on a graph of links that exchange reports until none changes.
class Mesh {
 public:
  explicit Mesh(const std::vector<std::string>& names) {
    for (const std::string& n : names) nodes_.emplace(n, Reachability({n, 1}));
  }
  void link(const std::string& a, const std::string& b) {
    links_[a].insert(b);
    links_[b].insert(a);
  }
  void unlink(const std::string& a, const std::string& b) {
    links_[a].erase(b);
    links_[b].erase(a);
    nodes_.at(a).forget(b);
    nodes_.at(b).forget(a);
  }
  bool linked(const std::string& a, const std::string& b) const {
    auto it = links_.find(a);
    return it != links_.end() && it->second.count(b);
  }
  // Returns the rounds it took.
  int settle() {
    for (int round = 1; round < 100; ++round) {
      bool changed = false;
      for (auto& [name, r] : nodes_) r.set_own(links_[name]);
      for (auto& [name, r] : nodes_) {
        if (!r.take_report()) continue;
        changed = true;
        for (const std::string& to : links_[name]) nodes_.at(to).receive(r.last_report());
      }
      if (!changed) return round;
    }
    return -1;
  }
  Names kept(const std::string& n) const { return nodes_.at(n).kept(); }
  const std::map<std::string, Reachability>& nodes() const { return nodes_; }

 private:
  std::map<std::string, Reachability> nodes_;
  std::map<std::string, Names> links_;
};

Mesh full(const std::vector<std::string>& names) {
  Mesh m(names);
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t j = i + 1; j < names.size(); ++j) m.link(names[i], names[j]);
  }
  return m;
}

TEST(ReachabilityTest, AFullMeshIsOneGroup) {
  Mesh m = full({"a", "b", "c", "d"});
  ASSERT_GT(m.settle(), 0);
  for (const char* n : {"a", "b", "c", "d"}) EXPECT_EQ(m.kept(n), (Names{"a", "b", "c", "d"}));
}

TEST(ReachabilityTest, ALinkDownBetweenTwoEndsCutsTheLargerNameOff) {
  Mesh m = full({"a", "b", "c"});
  ASSERT_GT(m.settle(), 0);
  m.unlink("a", "c");
  ASSERT_GT(m.settle(), 0);
  EXPECT_EQ(m.kept("a"), (Names{"a", "b"}));
  EXPECT_EQ(m.kept("b"), (Names{"a", "b"}));
  EXPECT_EQ(m.kept("c"), (Names{"c"})) << "b keeps a, so c is alone: not in two views at once";
  m.link("a", "c");
  ASSERT_GT(m.settle(), 0);
  for (const char* n : {"a", "b", "c"}) EXPECT_EQ(m.kept(n), (Names{"a", "b", "c"}));
}

TEST(ReachabilityTest, OneLinkDownInALargerMeshCutsOneEndOnly) {
  Mesh m = full({"a", "b", "c", "d", "e"});
  m.unlink("b", "d");
  ASSERT_GT(m.settle(), 0);
  for (const char* n : {"a", "b", "c", "e"}) EXPECT_EQ(m.kept(n), (Names{"a", "b", "c", "e"}));
  EXPECT_EQ(m.kept("d"), (Names{"d"}));
}

TEST(ReachabilityTest, AMemberIsKeptOnlyOnceItsReportAgrees) {
  Reachability a({"a", 1});
  a.set_own({"b"});
  EXPECT_EQ(a.kept(), (Names{"a"})) << "b has not said it keeps a";
  EXPECT_TRUE(a.receive({{"b", 7}, 1, {"a"}, {"a", "b"}}));
  EXPECT_EQ(a.kept(), (Names{"a", "b"}));
  EXPECT_FALSE(a.receive({{"b", 7}, 1, {}, {"b"}})) << "the same version again";
  EXPECT_EQ(a.kept(), (Names{"a", "b"}));
  EXPECT_TRUE(a.receive({{"b", 8}, 1, {}, {"b"}})) << "a new incarnation starts its versions again";
  EXPECT_EQ(a.kept(), (Names{"a"}));
  ASSERT_TRUE(a.take_report());
  EXPECT_EQ(a.last_report().reaches, (Names{"b"}));
  uint64_t version = a.last_report().version;
  EXPECT_FALSE(a.take_report()) << "nothing changed since";
  EXPECT_EQ(a.last_report().version, version);
}

// Over random graphs: members who keep each other keep the same set, every
// pair in it is linked, and the reports stop.
TEST(ReachabilityTest, RandomGraphsEndInGroupsInWhichEveryPairIsLinked) {
  std::mt19937_64 rng(20261202);
  for (int trial = 0; trial < 400; ++trial) {
    size_t n = 2 + rng() % 6;
    std::vector<std::string> names;
    for (size_t i = 0; i < n; ++i) names.push_back(std::string(1, char('a' + i)));
    Mesh m(names);
    for (size_t i = 0; i < n; ++i) {
      for (size_t j = i + 1; j < n; ++j) {
        if (rng() % 4 != 0) m.link(names[i], names[j]);
      }
    }
    ASSERT_GT(m.settle(), 0) << "trial " << trial;
    for (const std::string& x : names) {
      Names kx = m.kept(x);
      ASSERT_TRUE(kx.count(x));
      for (const std::string& y : kx) {
        if (y == x) continue;
        EXPECT_TRUE(m.linked(x, y)) << "trial " << trial << ": " << x << " keeps " << y;
        EXPECT_EQ(m.kept(y), kx) << "trial " << trial << ": " << x << " and " << y;
      }
    }
  }
}

}  // namespace
}  // namespace plexus_test

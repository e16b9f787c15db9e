// ViewKeeper: one member's side of the view protocol, alone and in a seeded
// simulation of members that join, leave, restart and split, with views
// delivered late, twice or not at all.
#include "view_keeper.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "sim_seeds.h"

namespace plexus_test {
namespace {

using plexus::hub::detail::ViewKeeper;
using plexus::strategies::Member;
using plexus::strategies::View;

Member m(const std::string& name, uint64_t creation = 1) { return Member{name + "@h:1", creation}; }

TEST(ViewKeeperTest, AloneANodeIsItsOwnClaimantWithView0) {
  ViewKeeper k(m("a"));
  EXPECT_EQ(k.view().number(), 0u);
  EXPECT_EQ(k.view().members(), std::vector<Member>{m("a")});
  EXPECT_TRUE(k.is_claimant());
  EXPECT_FALSE(k.propose()) << "its view is what it can reach";
}

TEST(ViewKeeperTest, TheSmallestNameProposesTheSetItReachesAboveEveryNumberItSaw) {
  ViewKeeper a(m("a"));
  ViewKeeper b(m("b"));
  a.member_up(m("b"));
  b.member_up(m("a"));
  EXPECT_FALSE(b.is_claimant());
  EXPECT_FALSE(b.propose());
  a.receive(View(41, {m("x")}));  // another side's view: counted, not adopted
  EXPECT_EQ(a.view().number(), 0u);
  std::optional<View> v = a.propose();
  ASSERT_TRUE(v);
  EXPECT_EQ(v->number(), 42u);
  EXPECT_EQ(v->members(), (std::vector<Member>{m("a"), m("b")}));
  EXPECT_EQ(a.view().number(), 42u);
  EXPECT_TRUE(b.receive(*v));
  EXPECT_FALSE(b.receive(*v)) << "the same view again";
  EXPECT_FALSE(a.propose()) << "nothing changed";
}

TEST(ViewKeeperTest, AViewNamingAnotherIncarnationOfThisNodeIsNotAdopted) {
  ViewKeeper a(m("a", 2));
  EXPECT_FALSE(a.receive(View(5, {m("a", 1), m("b")})));
  EXPECT_EQ(a.highest(), 5u);
  EXPECT_TRUE(a.receive(View(6, {m("a", 2), m("b")})));
}

TEST(ViewKeeperTest, ARestartedMemberReplacesItsOlderIncarnation) {
  ViewKeeper a(m("a"));
  a.member_up(m("b", 1));
  a.member_up(m("b", 2));
  EXPECT_EQ(a.reachable(), (std::vector<Member>{m("a"), m("b", 2)}));
  a.member_down("b@h:1");
  EXPECT_EQ(a.reachable(), std::vector<Member>{m("a")});
}

TEST(ViewKeeperTest, TheReachableSetIsTakenWholeWithItsIncarnations) {
  ViewKeeper a(m("a"));
  EXPECT_TRUE(a.set_reachable({m("c"), m("b", 2)}));
  EXPECT_EQ(a.reachable(), (std::vector<Member>{m("a"), m("b", 2), m("c")}));
  EXPECT_FALSE(a.set_reachable({m("b", 2), m("c"), m("a")})) << "the same set";
  EXPECT_TRUE(a.set_reachable({m("b", 1)})) << "another incarnation of b, and c gone";
  EXPECT_EQ(a.reachable(), (std::vector<Member>{m("a"), m("b", 1)}));
  EXPECT_TRUE(a.is_claimant());
}

// ---------------------------------------------------------------- simulation

// Members n0..n<count>, each in a group; members of one group reach each
// other and no one else. Views travel as messages that may be delivered in
// any order, twice, or not at all (while faults last).
class Cluster {
 public:
  Cluster(int count, std::mt19937_64& rng) : rng_(rng), group_(count, 0), creation_(count, 1) {
    for (int i = 0; i < count; ++i) keepers_.emplace_back(member(i));
    for (int i = 0; i < count; ++i) {
      for (int j = 0; j < count; ++j) connect(i, j);
    }
  }

  int size() const { return static_cast<int>(keepers_.size()); }
  const ViewKeeper& keeper(int i) const { return keepers_[i]; }
  int group(int i) const { return group_[i]; }
  const std::string& failure() const { return failure_; }

  void regroup(std::vector<int> groups) {
    std::vector<int> before = group_;
    group_ = std::move(groups);
    for (int i = 0; i < size(); ++i) {
      for (int j = 0; j < size(); ++j) {
        if (i == j) continue;
        bool was = before[i] == before[j];
        bool is = group_[i] == group_[j];
        if (was && !is) keepers_[i].member_down(member(j).node);
        if (!was && is) connect(i, j);
      }
    }
  }

  // Node i restarts: a new creation, a new keeper; its peers see it go and
  // come back.
  void restart(int i) {
    ++creation_[i];
    keepers_[i] = ViewKeeper(member(i));
    for (int j = 0; j < size(); ++j) {
      if (j == i || group_[j] != group_[i]) continue;
      keepers_[j].member_down(member(i).node);
      connect(i, j);
      connect(j, i);
    }
  }

  // Every claimant proposes; every member also resends its view to those it
  // reaches (as the hub's periodic sync carries view numbers).
  void propose_and_resend() {
    for (int i = 0; i < size(); ++i) {
      if (std::optional<View> v = keepers_[i].propose()) broadcast(i, *v);
      broadcast(i, keepers_[i].view());
    }
  }

  // Delivers what is in flight, in a random order; with faults, some twice
  // and some not at all.
  void deliver(bool faults) {
    std::vector<std::pair<int, View>> batch;
    batch.swap(in_flight_);
    std::shuffle(batch.begin(), batch.end(), rng_);
    for (auto& [to, view] : batch) {
      if (faults && rng_() % 8 == 0) continue;                          // dropped
      if (faults && rng_() % 8 == 0) in_flight_.push_back({to, view});  // duplicated, later
      // A view crosses no cut: its sender is in `to`'s group, or it is lost.
      if (!sent_from_group(view, to)) continue;
      adopt(to, view);
    }
  }

  bool quiet() const { return in_flight_.empty(); }

 private:
  Member member(int i) const { return Member{"n" + std::to_string(i) + "@h:1", creation_[i]}; }

  void connect(int i, int j) {
    if (i == j || group_[i] != group_[j]) return;
    keepers_[i].member_up(member(j));
    in_flight_.push_back({j, keepers_[i].view()});  // a member sends its view on connect
  }

  void broadcast(int from, const View& view) {
    for (int j = 0; j < size(); ++j) {
      if (j != from && group_[j] == group_[from]) in_flight_.push_back({j, view});
    }
  }

  // Views carry no sender here; one whose members include someone in `to`'s
  // group can have come from there (a stale one is refused by number).
  bool sent_from_group(const View& view, int to) const {
    for (const Member& mem : view.members()) {
      for (int j = 0; j < size(); ++j) {
        if (group_[j] == group_[to] && member(j).node == mem.node) return true;
      }
    }
    return false;
  }

  void adopt(int to, const View& view) {
    uint64_t before = keepers_[to].view().number();
    keepers_[to].receive(view);
    if (keepers_[to].view().number() < before && failure_.empty()) {
      failure_ = "n" + std::to_string(to) + "'s view number went down";
    }
  }

  std::mt19937_64& rng_;
  std::vector<int> group_;
  std::vector<uint64_t> creation_;
  std::vector<ViewKeeper> keepers_;
  std::vector<std::pair<int, View>> in_flight_;
  std::string failure_;
};

// After the faults stop and the views settle, every member of a group has
// the same view, naming exactly the group (with each member's creation).
std::string check_converged(const Cluster& c) {
  std::map<int, std::vector<int>> groups;
  for (int i = 0; i < c.size(); ++i) groups[c.group(i)].push_back(i);
  for (const auto& [g, members] : groups) {
    const View& first = c.keeper(members[0]).view();
    std::vector<Member> expected;
    for (int i : members) expected.push_back(c.keeper(i).self());
    std::sort(expected.begin(), expected.end());
    for (int i : members) {
      const View& v = c.keeper(i).view();
      if (v.number() != first.number() || v.members() != first.members()) {
        return "n" + std::to_string(i) + " has view " + std::to_string(v.number()) + ", n" +
               std::to_string(members[0]) + " has " + std::to_string(first.number());
      }
    }
    if (first.members() != expected)
      return "group " + std::to_string(g) + "'s view is not the group";
  }
  return "";
}

// One seeded run: 40 steps of regroupings, restarts and faulty deliveries,
// then settling. A failure names its seed, which replays it exactly.
std::string run(uint64_t seed) {
  std::mt19937_64 rng(seed);
  int count = 2 + static_cast<int>(rng() % 6);
  Cluster c(count, rng);
  for (int step = 0; step < 40; ++step) {
    switch (rng() % 4) {
      case 0: {  // split into up to three groups (transitive: a group reaches itself)
        std::vector<int> groups(count);
        for (int& g : groups) g = static_cast<int>(rng() % 3);
        c.regroup(groups);
        break;
      }
      case 1:
        c.regroup(std::vector<int>(count, 0));  // heal
        break;
      case 2:
        c.restart(static_cast<int>(rng() % count));
        break;
      default:
        c.propose_and_resend();
        break;
    }
    c.deliver(/*faults=*/true);
  }
  for (int round = 0; round < 50; ++round) {
    c.propose_and_resend();
    while (!c.quiet()) c.deliver(/*faults=*/false);
  }
  if (!c.failure().empty()) return c.failure();
  return check_converged(c);
}

// 300 seeds in CI (sim_seeds.h).
TEST(ViewKeeperSimulation, ViewsConvergeAfterSplitsRestartsAndLostMessages) {
  run_sim_seeds(sim_seeds(300), [](uint64_t seed, LogCapture*) { return run(seed); });
}

}  // namespace
}  // namespace plexus_test

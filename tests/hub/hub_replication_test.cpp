// Replication (issue "The hub, resilient"): N copies of each child on the
// first N members of its placement, kept at min(N, members) through crashes
// and joins; with active_passive exactly one active copy, told so.
#include <gtest/gtest.h>

#include <set>

#include "hub_cluster.h"
#include "plexus/hub/hub.h"
#include "plexus/hub/redundancy_signal.h"
#include "plexus/strategies/replication.h"

namespace {

using namespace plexus_test;
using plexus::strategies::Replication;
using Mode = plexus::strategies::Redundancy::Mode;
using Model = plexus::strategies::Redundancy::Model;
using Signal = plexus::strategies::Redundancy::Signal;

hub::HubConfig replicated(int factor, Model model = Model::kActiveActive,
                          Signal signal = Signal::kNone) {
  hub::HubConfig c = fast_config("replicated");
  c.redundancy = std::make_shared<Replication>(*Replication::make(factor, model, signal));
  return c;
}

class HubReplicationTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << logs_.dump();
  }
  void start(HubCluster& c, int nodes) {
    for (int i = 0; i < nodes; ++i) c.add(std::string(1, static_cast<char>('a' + i)));
    ASSERT_EQ(c.settle(), "");
  }
  void start_children(HubCluster& c, const std::string& prefix, int n) {
    auto f = c.hub(0).start_children(worker_specs(prefix, n), {.awaitable = true});
    ASSERT_TRUE(f.ok()) << f.status();
    ASSERT_TRUE(c.net().run_until([&] { return f->ready(); }, 30s));
    auto r = f->await(0ms);
    ASSERT_TRUE(r.ok() && r->ok());
    ASSERT_EQ(r->started.size(), static_cast<size_t>(n));
    for (const hub::StartedChild& s : r->started) EXPECT_EQ(s.nodes.size(), 2u) << s.id;
  }
  static std::set<std::string> ids(const std::string& prefix, int n) {
    std::set<std::string> out;
    for (int i = 0; i < n; ++i) out.insert(prefix + std::to_string(i));
    return out;
  }

  LogCapture logs_;
};

TEST_F(HubReplicationTest, EachChildRunsOnTheFirstTwoMembersOfItsPlacement) {
  HubCluster c(replicated(2), &logs_);
  start(c, 3);
  start_children(c, "r", 100);
  ASSERT_EQ(c.settle(), "");  // check(): two copies each, where the strategy names them
  size_t local = 0;
  for (size_t i = 0; i < 3; ++i) local += c.hub(i).process_list(hub::Scope::kLocal).size();
  EXPECT_EQ(local, 200u);
  for (size_t i = 0; i < 3; ++i) {
    std::optional<hub::ChildInfo> info = c.hub(i).child_lookup("r7");
    ASSERT_TRUE(info);
    EXPECT_EQ(info->nodes.size(), 2u);
    EXPECT_EQ(c.hub(i).get_pids("r7").size(), 2u);
    EXPECT_EQ(c.hub(i).active_pid("r7"), info->nodes.front().pid);
  }
  // A stop ends every copy.
  auto f = c.hub(1).stop_children({"r7", "r8"}, {.awaitable = true});
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(c.net().run_until([&] { return f->ready(); }, 30s));
  ASSERT_TRUE(f->await(0ms)->ok());
  EXPECT_EQ(c.settle(), "");
  EXPECT_EQ(c.running().copies("r7"), 0u);
  EXPECT_EQ(c.running().copies("r8"), 0u);
}

TEST_F(HubReplicationTest, AKilledHostsCopiesStartAgainOnTheSurvivorsAndLookupsKeepAnswering) {
  HubCluster c(replicated(2), &logs_);
  start(c, 4);
  start_children(c, "k", 200);
  ASSERT_EQ(c.settle(), "");
  std::string lost = c.node(3).name();
  c.crash(3);
  // As soon as a survivor sees the loss, every child still has a copy it
  // serves: the other copy, on a live member.
  ASSERT_TRUE(c.net().run_until([&] { return c.hub(0).nodes(true).size() == 3; }, 30s));
  for (const std::string& id : ids("k", 200)) {
    plexus::Pid active = c.hub(0).active_pid(id);
    ASSERT_TRUE(active) << id;
    EXPECT_NE(c.node(0).node_name(active), lost) << id;
  }
  std::set<std::string> expected = ids("k", 200);
  EXPECT_EQ(c.settle(), "");
  EXPECT_EQ(c.check(&expected), "");
  size_t local = 0;
  for (size_t i = 0; i < 3; ++i) local += c.hub(i).process_list(hub::Scope::kLocal).size();
  EXPECT_EQ(local, 400u);
}

TEST_F(HubReplicationTest, AReplicaThatRestartsKeepsItsPlaceAndTheOtherCopy) {
  HubCluster c(replicated(2), &logs_);
  start(c, 3);
  start_children(c, "c", 10);
  ASSERT_EQ(c.settle(), "");
  std::vector<plexus::Pid> before = c.hub(0).get_pids("c3");
  ASSERT_EQ(before.size(), 2u);
  // The second copy, crashed on its own node.
  std::string second = c.node(0).node_name(before[1]);
  for (const auto& [on, pid] : c.running().by_id.at("c3")) {
    if (on != second) continue;
    for (size_t i = 0; i < c.size(); ++i) {
      if (c.node(i).name() != on) continue;
      Text crash;
      crash.set_text("crash");
      ASSERT_TRUE(c.node(i).runtime().send(pid, crash).ok());
    }
  }
  ASSERT_TRUE(c.net().run_until(
      [&] {
        std::vector<plexus::Pid> now = c.hub(0).get_pids("c3");
        return now.size() == 2 && now[1] != before[1];
      },
      30s));
  EXPECT_EQ(c.hub(0).get_pids("c3").front(), before.front()) << "the other copy was not touched";
  EXPECT_EQ(c.settle(), "");
}

TEST_F(HubReplicationTest, ClusterSizeCountsTheHubsMembersAsTheyJoin) {
  HubCluster c(replicated(Replication::kClusterSize), &logs_);
  start(c, 2);
  auto f = c.hub(0).start_children(worker_specs("z", 20), {.awaitable = true});
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(c.net().run_until([&] { return f->ready(); }, 30s));
  ASSERT_EQ(c.settle(), "");
  EXPECT_EQ(c.running().copies("z0"), 2u);
  c.add("c");
  ASSERT_EQ(c.settle(), "");
  EXPECT_EQ(c.running().copies("z0"), 3u);
  EXPECT_EQ(c.hub(2).process_list(hub::Scope::kLocal).size(), 20u);
}

// Hub::call reaches the active copy, and after its node dies, the copy that
// takes its place.
TEST_F(HubReplicationTest, ACallThroughTheHubFollowsTheActiveCopy) {
  HubCluster c(replicated(2, Model::kActivePassive), &logs_);
  start(c, 3);
  start_children(c, "q", 30);
  ASSERT_EQ(c.settle(), "");
  // A child whose active copy is not on member 0, which makes the calls.
  std::string id;
  for (int i = 0; i < 30 && id.empty(); ++i) {
    std::string q = "q" + std::to_string(i);
    if (c.node(0).node_name(c.hub(0).active_pid(q)) != c.node(0).name()) id = q;
  }
  ASSERT_FALSE(id.empty());
  std::string first_active = c.node(0).node_name(c.hub(0).active_pid(id));
  std::vector<std::string> answers;
  bool done = false;
  plexus::StatusCode unknown = plexus::StatusCode::kOk;
  hub::Hub& h = c.hub(0);
  auto ask = [&](Context self) -> Task<> {
    Text hello;
    hello.set_text("who");
    unknown = h.send(self, "nope", hello).code();
    plexus::Result<Text> r = co_await h.call<Text>(self, id, hello, 10s);
    answers.push_back(r.ok() ? r->text() : "error: " + r.status().to_string());
    done = true;
  };
  c.node(0).runtime().spawn(ask);
  ASSERT_TRUE(c.net().run_until([&] { return done; }, 30s));
  ASSERT_EQ(answers, std::vector<std::string>{first_active});
  for (size_t i = 0; i < c.size(); ++i) {
    if (c.node(i).name() == first_active) c.crash(i);
  }
  done = false;
  c.node(0).runtime().spawn(ask);
  ASSERT_TRUE(c.net().run_until([&] { return done; }, 30s));
  ASSERT_EQ(answers.size(), 2u);
  EXPECT_NE(answers[1], first_active);
  EXPECT_EQ(answers[1].rfind("error", 0), std::string::npos) << answers[1];
  EXPECT_EQ(c.settle(), "");
  EXPECT_EQ(c.node(0).node_name(c.hub(0).active_pid(id)), answers[1])
      << "the copy that answered is the active one once the registry settles";
  EXPECT_EQ(unknown, plexus::StatusCode::kNotFound);
}

// Exactly one copy of each child is active, the registry's first, and it
// (and only it) was told so; after its node dies a survivor is told.
TEST_F(HubReplicationTest, ActivePassiveHasOneActiveCopyTheFirstAndTellsEachItsMode) {
  HubCluster c(replicated(2, Model::kActivePassive, Signal::kAll), &logs_);
  start(c, 3);
  start_children(c, "p", 60);
  auto one_active_each = [&]() -> std::string {
    for (const hub::ChildInfo& info : c.hub(0).registry_dump()) {
      int active = 0;
      for (size_t k = 0; k < info.nodes.size(); ++k) {
        auto m = c.running().modes.find({info.id, info.nodes[k].node});
        if (m == c.running().modes.end()) return info.id + " on " + info.nodes[k].node + " untold";
        bool is_active = m->second == Mode::kActive;
        active += is_active;
        if (is_active != (k == 0))
          return info.id + " on " + info.nodes[k].node + " in the wrong mode";
      }
      if (active != 1) return info.id + " has " + std::to_string(active) + " active copies";
    }
    return "";
  };
  ASSERT_EQ(c.settle(), "");
  ASSERT_TRUE(c.net().run_until([&] { return one_active_each().empty(); }, 30s))
      << one_active_each();
  // The member holding the most active copies goes; their passive copies
  // become active.
  c.crash(1);
  ASSERT_EQ(c.settle(), "");
  ASSERT_TRUE(c.net().run_until([&] { return one_active_each().empty(); }, 30s))
      << one_active_each();
}

}  // namespace

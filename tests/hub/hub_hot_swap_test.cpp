// Hot swap (issue "The hub, resilient"): a moving child hands its state to
// its new copy; what senders send it through the hub meanwhile is held and
// arrives complete and in order; a handover that does not come is called
// off and the child stays where it was.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "hub_cluster.h"
#include "plexus/hub/hub.h"
#include "plexus/strategies/migration.h"

namespace {

using namespace plexus_test;

hub::HubConfig hot_swap_config() {
  hub::HubConfig c = fast_config("hot");
  c.migration = std::make_shared<plexus::strategies::HotSwap>();
  c.migr_base_timeout = 2000ms;
  return c;
}

class HubHotSwapTest : public ::testing::Test {
 protected:
  void TearDown() override {
    if (HasFailure()) std::cerr << logs_.dump();
  }
  // Members `names`, whose messages take up to `max_delay` (so that a move
  // spans several of a sender's rounds), and `n` children PREFIX0.. started
  // through the first, all settled: the children's ids.
  std::vector<std::string> start(HubCluster& c, std::initializer_list<const char*> names,
                                 const std::string& prefix, int n,
                                 std::chrono::milliseconds max_delay = 0ms) {
    plexus::LoopbackFaults faults;
    faults.max_delay = max_delay;
    c.net().set_faults(faults);
    for (const char* name : names) c.add(name);
    EXPECT_EQ(c.settle(), "");
    auto f = c.hub(0).start_children(worker_specs(prefix, n), {.awaitable = true});
    EXPECT_TRUE(f.ok()) << f.status();
    EXPECT_TRUE(c.net().run_until([&] { return f->ready(); }, 30s));
    EXPECT_EQ(c.settle(), "");
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(prefix + std::to_string(i));
    return ids;
  }
  // Where each child's active copy runs, as member `i` sees it.
  static std::map<std::string, std::string> placement(HubCluster& c,
                                                      const std::vector<std::string>& ids,
                                                      size_t i = 0) {
    std::map<std::string, std::string> out;
    for (const std::string& id : ids) out[id] = c.node(i).node_name(c.hub(i).active_pid(id));
    return out;
  }
  // Starts `sender` on member `i` and waits for its first `rounds` rounds.
  static void run_sender(HubCluster& c, size_t i, Sender& sender, int rounds) {
    c.node(i).runtime().spawn(
        [&sender, &hub = c.hub(i)](Context self) -> Task<> { co_await sender.run(self, hub); });
    ASSERT_TRUE(c.net().run_until([&] { return sender.rounds >= rounds; }, 30s));
  }
  // Lets `sender` run `rounds` more rounds, then stops it.
  static void stop_sender(HubCluster& c, Sender& sender, int rounds = 0) {
    int until = sender.rounds + rounds;
    ASSERT_TRUE(c.net().run_until([&] { return sender.rounds >= until; }, 30s));
    sender.stop = true;
    ASSERT_TRUE(c.net().run_until([&] { return sender.stopped; }, 30s));
  }
  LogCapture logs_;
};

TEST_F(HubHotSwapTest, AJoinHandsEachMovingChildsStateToItsNewCopyAndLosesNoMessage) {
  HubCluster c(hot_swap_config(), &logs_);
  std::vector<std::string> ids = start(c, {"a", "b"}, "h", 200, 10ms);
  std::map<std::string, std::string> before = placement(c, ids);
  Sender sender{ids};
  run_sender(c, 0, sender, 5);
  // A third member joins while the numbers flow: the children it now heads
  // move to it, each with its state.
  c.add("c");
  ASSERT_EQ(c.settle(), "");
  stop_sender(c, sender, 5);
  ASSERT_TRUE(c.net().run_until([&] { return complete(c, sender).empty(); }, 30s))
      << complete(c, sender);

  size_t moved = 0;
  for (const auto& [id, now] : placement(c, ids)) {
    if (now == before[id]) continue;
    ++moved;
    EXPECT_EQ(now, c.node(2).name()) << id << " moved, but not to the joiner";
  }
  EXPECT_GT(moved, 30u) << "a joiner of three heads about a third";
  EXPECT_EQ(c.running().handed_over, moved) << "each move handed the state over";
  EXPECT_EQ(c.metric_sum("plexus_hub_handovers_total"), moved);
  EXPECT_EQ(c.metric_sum("plexus_hub_migrations_total"), moved);
  EXPECT_GT(c.metric_sum("plexus_hub_messages_held_total"), 0) << "the sender sent during moves";
  EXPECT_EQ(c.metric_sum("plexus_hub_handovers_called_off_total"), 0);
  EXPECT_TRUE(sender.refused.empty()) << "none past handover_buffer";
  EXPECT_EQ(c.settle(), "");
  for (const std::string& id : ids) EXPECT_EQ(c.running().copies(id), 1u) << id;
}

TEST_F(HubHotSwapTest, ACallThroughTheHubDuringAMoveIsAnsweredByTheNewCopy) {
  HubCluster c(hot_swap_config(), &logs_);
  std::vector<std::string> ids = start(c, {"a", "b"}, "k", 60);
  std::map<std::string, std::string> answers;
  int asked = 0;
  c.add("c");
  // Calls of every child while the join moves some: each is answered once,
  // by a copy that runs.
  c.node(0).runtime().spawn([&](Context self) -> Task<> {
    Text who;
    who.set_text("who");
    for (const std::string& id : ids) {
      plexus::Result<Text> r = co_await c.hub(0).call<Text>(self, id, who, 10s);
      answers[id] = r.ok() ? r->text() : "error: " + r.status().to_string();
      ++asked;
    }
  });
  ASSERT_TRUE(c.net().run_until([&] { return asked == 60; }, 60s));
  ASSERT_EQ(c.settle(), "");
  for (const auto& [id, answer] : answers) {
    EXPECT_EQ(answer.rfind("error", 0), std::string::npos) << id << ": " << answer;
  }
}

TEST_F(HubHotSwapTest, AHandoverThatDoesNotComeIsCalledOffAndTheChildStaysWithItsMessages) {
  HubCluster c(hot_swap_config(), &logs_);
  std::vector<std::string> ids = start(c, {"a", "b"}, "stubborn", 40);
  std::map<std::string, std::string> before = placement(c, ids);
  Sender sender{ids};
  run_sender(c, 1, sender, 3);
  c.add("c");
  // No child answers its HandoverRequest: after migr_base_timeout each move
  // is called off, the new copies stop, and the messages held meanwhile go
  // to the copy that stayed.
  ASSERT_TRUE(c.net().run_until(
      [&] {
        if (!c.views_settled()) return false;
        for (const std::string& id : ids) {
          if (c.running().copies(id) != 1) return false;
        }
        return logs_.dump().find("its handover was called off") != std::string::npos;
      },
      60s));
  c.net().advance(3s);
  stop_sender(c, sender);
  ASSERT_TRUE(c.net().run_until([&] { return complete(c, sender).empty(); }, 30s))
      << complete(c, sender);
  EXPECT_EQ(placement(c, ids, 1), before);
  for (const std::string& id : ids) EXPECT_EQ(c.running().copies(id), 1u) << id;
  EXPECT_EQ(c.running().handed_over, 0u);
  EXPECT_GT(c.metric_sum("plexus_hub_handovers_called_off_total"), 5);
  EXPECT_EQ(c.metric_sum("plexus_hub_handovers_total"), 0);
  EXPECT_GT(c.metric_sum("plexus_hub_messages_held_total"), 0);
}

// A move held long (a child that never hands over) fills each member's
// buffer for it: Hub::send then answers kResourceExhausted, the sender sends
// that number again later, and after the call-off every number arrives once,
// in order, none dropped in silence.
TEST_F(HubHotSwapTest, ABufferThatFillsDuringAMoveTurnsSendsAwayAndDropsNone) {
  hub::HubConfig config = hot_swap_config();
  config.handover_buffer = 20;
  HubCluster c(config, &logs_);
  std::vector<std::string> ids = start(c, {"a", "b"}, "stubborn", 30);
  Sender sender{ids};
  run_sender(c, 1, sender, 3);
  c.add("c");
  ASSERT_TRUE(c.net().run_until(
      [&] { return logs_.dump().find("its handover was called off") != std::string::npos; }, 60s));
  ASSERT_TRUE(c.net().run_until([&] { return c.views_settled(); }, 30s));
  stop_sender(c, sender, 5);
  ASSERT_TRUE(c.net().run_until([&] { return complete(c, sender).empty(); }, 30s))
      << complete(c, sender);
  // 2 s of a move at a number every 2 ms is far past 20 per child.
  EXPECT_GT(sender.refused[plexus::StatusCode::kResourceExhausted], 100);
  EXPECT_EQ(sender.refused.size(), 1u) << "no other refusal";
  EXPECT_GT(c.metric_sum("plexus_hub_messages_held_total"), 0);
  for (const std::string& id : ids) EXPECT_EQ(c.running().copies(id), 1u) << id;
}

// Hub::stop with hot swap drains the node: every child it ran moves off it
// with its state, messages sent meanwhile arrive, and then it leaves.
TEST_F(HubHotSwapTest, AGracefulStopHandsEveryChildOverBeforeTheNodeLeaves) {
  HubCluster c(hot_swap_config(), &logs_);
  std::vector<std::string> ids = start(c, {"a", "b", "c"}, "d", 150, 5ms);
  size_t on_c = c.hub(2).process_list(hub::Scope::kLocal).size();
  ASSERT_GT(on_c, 20u);
  Sender sender{ids};
  run_sender(c, 0, sender, 3);
  hub::Future<plexus::Status> left = c.hub(2).stop();
  ASSERT_TRUE(c.net().run_until([&] { return left.ready(); }, 60s));
  EXPECT_TRUE(left.await(0ms).ok());
  ASSERT_TRUE(c.net().run_until([&] { return c.hub(0).nodes(true).size() == 2; }, 30s));
  stop_sender(c, sender, 3);
  ASSERT_TRUE(c.net().run_until([&] { return complete(c, sender).empty(); }, 30s))
      << complete(c, sender);
  EXPECT_EQ(c.running().handed_over, on_c) << "every child of the leaver was handed over";
  for (const auto& [id, now] : placement(c, ids)) {
    EXPECT_EQ(c.running().copies(id), 1u) << id;
    EXPECT_NE(now, c.node(2).name()) << id;
  }
}

// Every node in turn drains and starts again (a new creation under the same
// name): no child and no handed-over state is lost.
TEST_F(HubHotSwapTest, ARollingRestartLosesNoChildAndNoState) {
  HubCluster c(hot_swap_config(), &logs_);
  std::vector<std::string> ids = start(c, {"a", "b", "c"}, "r", 90, 5ms);
  // The sender runs on a node that restarts too: one sender per turn, each
  // a new sender, so each child's numbers start at 1 for each of them.
  std::vector<std::unique_ptr<Sender>> senders;
  for (size_t turn = 0; turn < 3; ++turn) {
    senders.push_back(std::make_unique<Sender>(ids));
    run_sender(c, (turn + 1) % 3, *senders.back(), 3);
    hub::Future<plexus::Status> left = c.hub(turn).stop();
    ASSERT_TRUE(c.net().run_until([&] { return left.ready(); }, 60s)) << "turn " << turn;
    ASSERT_TRUE(left.await(0ms).ok());
    c.crash(turn);
    c.restart(turn);
    ASSERT_EQ(c.settle(), "") << "turn " << turn;
    stop_sender(c, *senders.back());
  }
  // Each child took every number of every sender, in order: what each
  // took last from each is what each sent it last (a copy that lost its
  // state would have taken the next number "after 0").
  auto all_complete = [&]() -> std::string {
    if (std::string why = disorder(c.running()); !why.empty()) return why;
    for (const std::string& id : ids) {
      std::multiset<int64_t> sent, took;
      for (const auto& sender : senders) sent.insert(sender->sent[id]);
      for (const auto& [who, n] : c.running().seen[id]) took.insert(n);
      if (sent != took) return id + " did not take every number sent";
    }
    return "";
  };
  ASSERT_TRUE(c.net().run_until([&] { return all_complete().empty(); }, 30s)) << all_complete();
  for (const std::string& id : ids) EXPECT_EQ(c.running().copies(id), 1u) << id;
  EXPECT_GT(c.running().handed_over, 60u) << "each drain handed its node's children over";
  std::set<std::string> expected(ids.begin(), ids.end());
  EXPECT_EQ(c.check(&expected), "");
}

}  // namespace

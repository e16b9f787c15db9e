// Gossip synchronization (strategies::Gossip) in a hub of ten members, in
// virtual time on the loopback network: what each member sends per change,
// and changes made as a member of their trees crashes.
#include <gtest/gtest.h>

#include <algorithm>

#include "hub_cluster.h"
#include "plexus/strategies/synchronization.h"

namespace plexus_test {
namespace {

using plexus::strategies::Gossip;

constexpr std::string_view kSent = "plexus_hub_record_messages_sent_total";

hub::HubConfig gossip_config() {
  hub::HubConfig c = fast_config("gossip");
  c.synchronization = std::make_shared<Gossip>(*Gossip::make(2, 500ms, 10s));
  // No anti-entropy within the tests: what reaches a member reaches it by
  // the change's own way.
  c.sync_interval = std::chrono::hours(1);
  return c;
}

std::vector<double> sent_by_member(HubCluster& cluster) {
  std::vector<double> out;
  for (size_t i = 0; i < cluster.size(); ++i) {
    plexus::MetricsWriter w;
    if (cluster.up(i)) cluster.node(i).runtime().metrics().collect(w);
    out.push_back(w.value(kSent, {{"hub", "gossip"}}).value_or(0));
  }
  return out;
}

// What one change costs: (messages sent in all, the most one member sent).
std::pair<double, double> one_change(HubCluster& cluster, const std::string& id) {
  std::vector<double> before = sent_by_member(cluster);
  auto f = cluster.hub(0).start_child(worker_spec(id), {.awaitable = true});
  EXPECT_TRUE(f.ok());
  EXPECT_TRUE(cluster.net().run_until(
      [&] {
        for (size_t i : cluster.live()) {
          if (cluster.hub(i).get_pids(id).empty()) return false;
        }
        return f->ready();
      },
      10s));
  cluster.net().advance(1s);  // anything more it would send
  std::vector<double> after = sent_by_member(cluster);
  double total = 0, most = 0;
  for (size_t i = 0; i < after.size(); ++i) {
    total += after[i] - before[i];
    most = std::max(most, after[i] - before[i]);
  }
  return {total, most};
}

TEST(HubGossipTest, EachChangeTakesMembersMinusOneMessagesAndNoMemberSendsMoreThanTheFanout) {
  hub::HubConfig pubsub_config = gossip_config();
  pubsub_config.synchronization = std::make_shared<plexus::strategies::PubSub>();
  for (bool gossip : {false, true}) {
    HubCluster cluster(gossip ? gossip_config() : pubsub_config);
    for (int i = 0; i < 10; ++i) cluster.add("m" + std::to_string(i));
    ASSERT_EQ(cluster.settle(), "");
    for (int c = 0; c < 5; ++c) {
      auto [total, most] = one_change(cluster, "c" + std::to_string(c));
      EXPECT_EQ(total, 9) << (gossip ? "gossip" : "pubsub") << " change " << c;
      EXPECT_EQ(most, gossip ? 2 : 9) << (gossip ? "gossip" : "pubsub") << " change " << c;
    }
    EXPECT_EQ(cluster.settle(), "");
  }
}

TEST(HubGossipTest, ChangesMadeAsAMemberCrashesReachEveryOtherMember) {
  HubCluster cluster(gossip_config());
  for (int i = 0; i < 10; ++i) cluster.add("m" + std::to_string(i));
  ASSERT_EQ(cluster.settle(), "");
  // The changes made before the view leaves m4 out name it in their trees:
  // the parts sent to it go to their next members (the new view's handoff
  // would also bring them; a stalled member that heads a part is the case
  // only the acknowledgements cover: HubProcessTest.Gossip*).
  // Thirty calls at once, through every other member, for many changes:
  // m4 heads a part with members after it in some of their trees (one
  // where it is a leaf has nothing to send again).
  cluster.crash(4);
  std::vector<hub::Future<hub::StartResult>> calls;
  for (int k = 0; k < 30; ++k) {
    size_t via = static_cast<size_t>(k % 9 < 4 ? k % 9 : k % 9 + 1);
    auto f = cluster.hub(via).start_children(worker_specs("w" + std::to_string(k) + "_", 10),
                                             {.awaitable = true});
    ASSERT_TRUE(f.ok());
    calls.push_back(std::move(*f));
  }
  std::set<std::string> expected;
  size_t answered = 0;
  for (auto& f : calls) {
    ASSERT_TRUE(cluster.net().run_until([&] { return f.ready(); }, 30s));
    hub::StartResult r = *f.await(0ms);
    answered += r.started.size() + r.errors.size();
    for (const auto& [id, where] : r.started) expected.insert(id);
  }
  EXPECT_EQ(answered, 300u);
  EXPECT_GT(expected.size(), 200u) << 300 - expected.size() << " errors";
  EXPECT_EQ(cluster.settle(), "");
  EXPECT_EQ(cluster.check(&expected), "");
  EXPECT_GT(cluster.metric_sum("plexus_hub_gossip_resends_total"), 0);
}

TEST(HubGossipTest, AMemberWithAnotherSynchronizationIsRefused) {
  HubCluster cluster(gossip_config());
  cluster.add("a");
  hub::HubConfig pubsub = gossip_config();
  pubsub.synchronization = std::make_shared<plexus::strategies::PubSub>();
  size_t odd = cluster.add("b", &pubsub);
  ASSERT_TRUE(cluster.net().run_until([&] { return !cluster.hub(odd).refusal().empty(); }, 5s));
  EXPECT_NE(cluster.hub(odd).refusal().find("sync=gossip(fanout=2"), std::string::npos)
      << cluster.hub(odd).refusal();
  EXPECT_NE(cluster.hub(odd).refusal().find("sync=pubsub()"), std::string::npos);
}

}  // namespace
}  // namespace plexus_test

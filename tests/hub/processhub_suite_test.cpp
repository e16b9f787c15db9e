// ProcessHub's own integration scenarios (its test/integration_test.exs, as
// ../shared/reference/processhub.md section 5.1 lists them), ported to a
// loopback cluster of six members: the same steps, and the same checks plus
// the hub's guarantees (HubCluster::check). Replication, hot swap and the
// quorum strategies are the next issue's; their scenarios come with them.
#include <gtest/gtest.h>

#include <set>

#include "hub_cluster.h"
#include "plexus/strategies/guided.h"

namespace {

using namespace plexus_test;
using hub::HookEvent;

class ProcessHubSuite : public ::testing::Test {
 protected:
  void start(hub::HubConfig config = fast_config("ph")) {
    cluster_ = std::make_unique<HubCluster>(config, &logs_);
    for (int i = 0; i < 6; ++i) cluster_->add("p" + std::to_string(i));
    ASSERT_EQ(cluster_->settle(), "");
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << logs_.dump();
  }
  template <class F>
  auto await(F future) {
    EXPECT_TRUE(cluster_->net().run_until([&] { return future.ready(); }, 30s));
    return future.await(0ms);
  }
  std::set<std::string> ids(const std::string& prefix, int n) {
    std::set<std::string> out;
    for (int i = 0; i < n; ++i) out.insert(prefix + std::to_string(i));
    return out;
  }
  // Every member's registry has exactly `expected`, each child on the node
  // the strategy names (validate_registry_length, validate_sync,
  // validate_singularity).
  void validate(const std::set<std::string>& expected) {
    ASSERT_EQ(cluster_->settle(), "");
    EXPECT_EQ(cluster_->check(&expected), "");
    for (size_t i : cluster_->live()) EXPECT_EQ(cluster_->hub(i).child_count(), expected.size());
  }

  LogCapture logs_;
  std::unique_ptr<HubCluster> cluster_;
};

// 1-2, "pubsub children starting and removing": 1000 children, then all stopped.
TEST_F(ProcessHubSuite, PubsubChildrenStartingAndRemoving) {
  start();
  auto started =
      await(*cluster_->hub(0).start_children(worker_specs("c", 1000), {.awaitable = true}));
  ASSERT_TRUE(started->ok());
  validate(ids("c", 1000));
  std::set<std::string> started_ids = ids("c", 1000);
  std::vector<std::string> all(started_ids.begin(), started_ids.end());
  auto stopped = await(*cluster_->hub(0).stop_children(all, {.awaitable = true}));
  ASSERT_TRUE(stopped->ok());
  EXPECT_EQ(stopped->stopped.size(), 1000u);
  validate({});
}

// 3, "guided pubsub children starting and removing": the guided errors, then
// a child on the node its mapping names.
TEST_F(ProcessHubSuite, GuidedChildrenStartingAndRemoving) {
  hub::HubConfig c = fast_config("ph");
  c.distribution = std::make_shared<plexus::strategies::Guided>();
  start(c);
  hub::Hub& h = cluster_->hub(0);
  auto missing = h.start_child(worker_spec("g"));
  EXPECT_EQ(missing.status().message().substr(0, 21), "missing_child_mapping");
  auto mismatch = h.start_child(worker_spec("g"), {.child_mapping = {{"other", {"x"}}}});
  EXPECT_EQ(mismatch.status().message().substr(0, 22), "child_mapping_mismatch");
  auto invalid = h.start_child(worker_spec("g"), {.child_mapping = {{"g", {"nowhere@loop:9"}}}});
  EXPECT_EQ(invalid.status().message().substr(0, 21), "invalid_child_mapping");
  std::string target = cluster_->node(4).name();
  auto started = await(
      *h.start_child(worker_spec("g"), {.awaitable = true, .child_mapping = {{"g", {target}}}}));
  ASSERT_TRUE(started->ok());
  ASSERT_EQ(cluster_->settle(), "");
  for (size_t i : cluster_->live()) {
    auto info = cluster_->hub(i).child_lookup("g");
    ASSERT_TRUE(info);
    ASSERT_EQ(info->nodes.size(), 1u);
    EXPECT_EQ(info->nodes[0].node, target);
  }
  ASSERT_TRUE(await(*h.stop_child("g", {.awaitable = true}))->ok());
  ASSERT_EQ(cluster_->settle(), "");
  for (size_t i : cluster_->live()) EXPECT_TRUE(cluster_->hub(i).registry_dump().empty());
}

// 4, "pubsub interval sync test": records a member never got by broadcast
// reach it by sync. Here member 5 is cut off while 300 children start (and
// its side starts its own copies, as divergence does); on the heal, the
// handoff round swaps the segments whose digests differ, and each child is
// left once.
TEST_F(ProcessHubSuite, SyncBringsWhatTheBroadcastsMissed) {
  start();
  for (size_t i = 0; i < 5; ++i)
    cluster_->net().cut(cluster_->node(i).name(), cluster_->node(5).name());
  ASSERT_TRUE(
      cluster_->net().run_until([&] { return cluster_->hub(5).nodes(true).size() == 1; }, 10s));
  ASSERT_TRUE(
      await(*cluster_->hub(0).start_children(worker_specs("s", 300), {.awaitable = true}))->ok());
  EXPECT_EQ(cluster_->hub(5).child_count(), 0u) << "no broadcast reached it";
  for (size_t i = 0; i < 5; ++i)
    cluster_->net().heal(cluster_->node(i).name(), cluster_->node(5).name());
  validate(ids("s", 300));
}

// 7, "process failure restarting": every child killed gets a new pid, and
// the main node hears of each (child_process_pid_update).
TEST_F(ProcessHubSuite, ProcessFailureRestarting) {
  start();
  size_t updates = 0;
  ASSERT_TRUE(cluster_->hub(0)
                  .register_hook(HookEvent::kChildPidUpdated, "count", 0,
                                 [&](HookEvent, const hub::HookData&) { ++updates; })
                  .ok());
  ASSERT_TRUE(
      await(*cluster_->hub(0).start_children(worker_specs("f", 100), {.awaitable = true}))->ok());
  ASSERT_EQ(cluster_->settle(), "");
  std::map<std::string, Pid> before;
  plexus_test::Text crash;
  crash.set_text("crash");
  for (const auto& [id, where] : cluster_->running().by_id) {
    before[id] = where.front().second;
    for (size_t i : cluster_->live()) {
      if (cluster_->node(i).name() == where.front().first) {
        (void)cluster_->node(i).runtime().send(where.front().second, crash);
      }
    }
  }
  validate(ids("f", 100));
  EXPECT_EQ(updates, 100u);
  for (const auto& [id, where] : cluster_->running().by_id)
    EXPECT_NE(before[id], where.front().second);
}

// 10, "partition divergence test": members come and go; divergence never
// says it is partitioned.
TEST_F(ProcessHubSuite, PartitionDivergenceIsNeverPartitioned) {
  start();
  ASSERT_TRUE(
      await(*cluster_->hub(0).start_children(worker_specs("d", 200), {.awaitable = true}))->ok());
  for (int i = 0; i < 3; ++i) cluster_->add("extra" + std::to_string(i));
  validate(ids("d", 200));
  for (size_t i : cluster_->live()) EXPECT_FALSE(cluster_->hub(i).is_partitioned());
  for (size_t i = 6; i < 9; ++i) cluster_->crash(i);
  validate(ids("d", 200));
  for (size_t i : cluster_->live()) EXPECT_FALSE(cluster_->hub(i).is_partitioned());
}

// 14, "coldswap migration": the hubs of five members leave, 1000 children
// start on the one left, the five come back: each child moves to its owner.
TEST_F(ProcessHubSuite, ColdSwapMigrationWhenTheOthersComeBack) {
  start();
  for (size_t i = 1; i < 6; ++i) {
    auto left = cluster_->hub(i).stop();
    ASSERT_TRUE(cluster_->net().run_until([&] { return left.ready(); }, 10s));
    cluster_->crash(i);  // its node goes too, to come back below
  }
  ASSERT_EQ(cluster_->settle(), "");
  ASSERT_TRUE(
      await(*cluster_->hub(0).start_children(worker_specs("m", 1000), {.awaitable = true}))->ok());
  EXPECT_EQ(cluster_->hub(0).process_list(hub::Scope::kLocal).size(), 1000u);
  for (size_t i = 1; i < 6; ++i) cluster_->restart(i);
  validate(ids("m", 1000));
  EXPECT_LT(cluster_->hub(0).process_list(hub::Scope::kLocal).size(), 300u);
}

}  // namespace

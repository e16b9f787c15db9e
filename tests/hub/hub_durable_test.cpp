// Durable children (HubConfig::store_path; docs/hub.md, "Durable
// children"): every member keeps the children it runs in a real RocksDB, and
// a restart of the whole cluster brings each child back exactly once, with
// the state it last saved; a stopped child stays stopped; a corrupt store is
// reported and set aside, and its node still starts.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "hub_cluster.h"
#include "plexus/strategies/replication.h"

namespace plexus_test {
namespace {

class HubDurableTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("plexus_hub_durable_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
  }
  void TearDown() override {
    if (HasFailure()) std::cerr << logs_.dump();
    std::filesystem::remove_all(dir_);
  }

  std::string store_of(const std::string& name) const { return (dir_ / name).string(); }

  hub::HubConfig config(int replicas = 1) const {
    hub::HubConfig c = fast_config("durable");
    using plexus::strategies::Replication;
    if (replicas > 1) c.redundancy = std::make_shared<Replication>(*Replication::make(replicas));
    return c;
  }
  // Adds member `name`, with its own store.
  size_t add(HubCluster& c, const std::string& name) {
    hub::HubConfig own = c_config_;
    own.store_path = store_of(name);
    return c.add(name, &own);
  }

  // Sends `rounds` numbered messages to each of `ids` from member `i`, and
  // waits until every child took (and saved) them all.
  void count(HubCluster& c, size_t i, const std::vector<std::string>& ids, int rounds) {
    auto sender = std::make_unique<Sender>(ids);
    Sender& s = *sender;
    c.node(i).runtime().spawn(
        [&s, &hub = c.hub(i)](Context self) -> Task<> { co_await s.run(self, hub); });
    ASSERT_TRUE(c.net().run_until([&] { return s.rounds >= rounds; }, 30s));
    s.stop = true;
    ASSERT_TRUE(c.net().run_until([&] { return s.stopped; }, 30s));
    ASSERT_TRUE(c.net().run_until([&] { return complete(c, s).empty(); }, 30s)) << complete(c, s);
    // Each child saved its state after its last number.
    ASSERT_TRUE(c.net().run_until(
        [&] {
          for (const std::string& id : ids) {
            auto saved = c.running().saved.find(id);
            if (saved == c.running().saved.end() ||
                saved->second != encode_seen(c.running().seen[id])) {
              return false;
            }
          }
          return true;
        },
        30s));
    senders_.push_back(std::move(sender));
  }

  // Starts PREFIX0..PREFIX{n-1} through member 0 and lets the cluster
  // settle: their ids, or none if the start failed.
  std::vector<std::string> start_all(HubCluster& c, const std::string& prefix, int n) {
    auto f = c.hub(0).start_children(worker_specs(prefix, n), {.awaitable = true});
    if (!f.ok() || !c.net().run_until([&] { return f->ready(); }, 30s)) return {};
    if (!f->await(0ms)->ok() || c.settle() != "") return {};
    std::vector<std::string> ids;
    for (int i = 0; i < n; ++i) ids.push_back(prefix + std::to_string(i));
    return ids;
  }

  // What each child's state says it took, by child, from the live copies.
  static std::map<std::string, std::map<std::string, int64_t>> states(HubCluster& c) {
    return c.running().seen;
  }

  std::filesystem::path dir_;
  hub::HubConfig c_config_ = config();
  LogCapture logs_;
  std::vector<std::unique_ptr<Sender>> senders_;
};

TEST_F(HubDurableTest, AFullRestartBringsEveryChildBackOnceWithItsLastSavedState) {
  HubCluster c(c_config_, &logs_);
  add(c, "a");
  add(c, "b");
  ASSERT_EQ(c.settle(), "");
  std::vector<std::string> ids = start_all(c, "d", 300);
  ASSERT_FALSE(ids.empty());
  // A third member joins: a third of the children move to it (cold swap),
  // and the stores follow them.
  add(c, "c");
  ASSERT_EQ(c.settle(), "");
  count(c, 0, ids, 3);
  // Fifty are stopped: they must not come back.
  std::vector<std::string> stopped(ids.begin(), ids.begin() + 50);
  auto s = c.hub(1).stop_children(stopped, {.awaitable = true});
  ASSERT_TRUE(s.ok()) << s.status();
  ASSERT_TRUE(c.net().run_until([&] { return s->ready(); }, 30s));
  ASSERT_EQ(c.settle(), "");
  std::set<std::string> alive(ids.begin() + 50, ids.end());
  auto before = states(c);
  ASSERT_TRUE(c.running().save_errors.empty()) << c.running().save_errors[0];
  EXPECT_EQ(c.metric_sum("plexus_hub_store_children"), 250 + 50)
      << "each live child once in the stores, each stopped one as a tombstone";

  for (size_t i = 0; i < 3; ++i) c.crash(i);
  ASSERT_TRUE(c.running().by_id.empty());
  c.running().seen.clear();
  c.running().restored = 0;
  // Back one at a time: the first restarts what it kept on its own, the
  // others bring theirs, and no child ever runs twice (one copy, and only
  // one node kept each).
  c.running().max_copies = 1;
  c.restart(0);
  c.restart(1);
  c.restart(2);
  ASSERT_EQ(c.settle(), "");
  EXPECT_EQ(c.check(&alive), "");
  EXPECT_EQ(c.hub(0).child_count(), 250u);
  EXPECT_TRUE(c.running().overlaps.empty()) << c.running().overlaps[0];
  EXPECT_EQ(c.running().restored, 250u) << "each came back with its saved state";
  auto after = states(c);
  for (const std::string& id : alive) {
    EXPECT_FALSE(before[id].empty()) << id;
    EXPECT_EQ(after[id], before[id]) << id << "'s state";
  }
  for (const std::string& id : stopped) EXPECT_EQ(c.running().copies(id), 0u) << id;
  EXPECT_EQ(c.metric_sum("plexus_hub_restored_children"), 250);
}

TEST_F(HubDurableTest, AColdSwapMovesADurableChildWithTheStateItSaved) {
  HubCluster c(c_config_, &logs_);
  add(c, "a");
  add(c, "b");
  ASSERT_EQ(c.settle(), "");
  std::vector<std::string> ids = start_all(c, "m", 90);
  ASSERT_FALSE(ids.empty());
  count(c, 1, ids, 3);
  auto before = states(c);
  c.running().restored = 0;
  add(c, "c");
  ASSERT_EQ(c.settle(), "");
  size_t moved = c.hub(0).children_by_node()[c.node(2).name()];
  EXPECT_GT(moved, 10u);
  EXPECT_EQ(c.running().restored, moved) << "each moved copy started from the state it saved";
  for (const std::string& id : ids) EXPECT_EQ(states(c)[id], before[id]) << id;
}

TEST_F(HubDurableTest, AStaggeredRestartStartsEachChildOnceAsItsNodeComesBack) {
  HubCluster c(c_config_, &logs_);
  for (const char* name : {"a", "b", "c"}) add(c, name);
  ASSERT_EQ(c.settle(), "");
  std::vector<std::string> ids = start_all(c, "s", 120);
  ASSERT_FALSE(ids.empty());
  count(c, 2, ids, 2);
  std::map<std::string, size_t> count_on;
  for (auto& [node, n] : c.hub(0).children_by_node()) count_on[node] = n;
  for (size_t i = 0; i < 3; ++i) c.crash(i);
  c.running().max_copies = 1;
  c.running().restored = 0;
  // Only a: it runs what it kept, and nothing else is known yet.
  c.restart(0);
  ASSERT_TRUE(c.net().run_until(
      [&] { return c.running().by_id.size() == count_on[c.node(0).name()]; }, 30s));
  c.restart(1);
  c.restart(2);
  ASSERT_EQ(c.settle(), "");
  std::set<std::string> alive(ids.begin(), ids.end());
  EXPECT_EQ(c.check(&alive), "");
  EXPECT_TRUE(c.running().overlaps.empty()) << c.running().overlaps[0];
  EXPECT_EQ(c.running().restored, 120u);
}

TEST_F(HubDurableTest, ACorruptStoreIsSetAsideAndItsChildrenComeBackFromTheirReplicas) {
  c_config_ = config(2);
  HubCluster c(c_config_, &logs_);
  for (const char* name : {"a", "b", "c"}) add(c, name);
  ASSERT_EQ(c.settle(), "");
  std::vector<std::string> ids = start_all(c, "r", 90);
  ASSERT_FALSE(ids.empty());
  count(c, 0, ids, 2);
  // The sender's messages go to each child's active copy, which saves.
  std::map<std::string, std::string> active_on;
  for (const std::string& id : ids) active_on[id] = c.node(0).node_name(c.hub(0).active_pid(id));
  auto before = states(c);
  for (size_t i = 0; i < 3; ++i) c.crash(i);
  c.running().seen.clear();
  {
    std::ofstream current(store_of("b") + "/CURRENT", std::ios::trunc);
    current << "not a manifest's name";
  }
  c.running().restored = 0;
  c.restart(0);
  c.restart(1);
  c.restart(2);
  ASSERT_EQ(c.settle(), "");
  std::set<std::string> alive(ids.begin(), ids.end());
  EXPECT_EQ(c.check(&alive), "") << "every child has its two copies again";
  EXPECT_EQ(
      logs_.count(plexus::LogLevel::kWarning, {"moved aside to " + store_of("b") + ".corrupt-"}),
      1u);
  // Every child had a copy kept on a good store, which brings it back; the
  // state it saved is back where its active copy ran on a or c, and lost
  // with b's store where it ran on b.
  auto after = states(c);
  std::string b = c.node(1).name();
  for (const std::string& id : ids) {
    if (active_on[id] == b) {
      EXPECT_TRUE(after[id].empty()) << id;
    } else {
      EXPECT_EQ(after[id], before[id]) << id;
    }
  }
  EXPECT_GT(c.running().restored, 0u);
}

TEST_F(HubDurableTest, ASaveFromAProcessThatIsNoCopyIsRefused) {
  HubCluster c(c_config_, &logs_);
  add(c, "a");
  ASSERT_EQ(c.settle(), "");
  std::optional<plexus::Status> saved;
  std::optional<plexus::Status> unknown_hub;
  c.node(0).runtime().spawn([&](Context self) -> Task<> {
    saved = co_await hub::save_state(self, "durable", "nobody", "state");
    unknown_hub = co_await hub::save_state(self, "no-such-hub", "nobody", "state");
  });
  ASSERT_TRUE(c.net().run_until([&] { return saved && unknown_hub; }, 30s));
  EXPECT_EQ(saved->code(), plexus::StatusCode::kNotFound) << *saved;
  EXPECT_EQ(unknown_hub->code(), plexus::StatusCode::kNotFound) << *unknown_hub;
  EXPECT_TRUE(c.hub(0).is_alive());
}

TEST_F(HubDurableTest, AHubWithoutAStoreRefusesASave) {
  HubCluster c(fast_config("plain"), &logs_);
  c.add("a");
  ASSERT_EQ(c.settle(), "");
  std::optional<plexus::Status> saved;
  c.node(0).runtime().spawn([&](Context self) -> Task<> {
    saved = co_await hub::save_state(self, "plain", "nobody", "state");
  });
  ASSERT_TRUE(c.net().run_until([&] { return saved.has_value(); }, 30s));
  EXPECT_EQ(saved->code(), plexus::StatusCode::kInvalidArgument) << *saved;
}

TEST_F(HubDurableTest, AStoreThatCannotBeMadeFailsTheStartByName) {
  std::filesystem::create_directories(dir_);
  std::ofstream(dir_ / "file") << "a file, not a directory";
  auto node = start_node("durable_bad");
  hub::HubConfig bad = c_config_;
  bad.store_path = (dir_ / "file" / "store").string();
  auto started = hub::Hub::start(*node, bad);
  ASSERT_FALSE(started.ok());
  EXPECT_NE(started.status().message().find(bad.store_path), std::string::npos) << started.status();
  // Nothing was left running: a hub of that id starts there without it.
  hub::HubConfig good = c_config_;
  good.store_path = store_of("good");
  EXPECT_TRUE(hub::Hub::start(*node, good).ok());
}

}  // namespace
}  // namespace plexus_test

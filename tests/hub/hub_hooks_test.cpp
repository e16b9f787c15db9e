// The hub's hooks (plexus/hub/hooks.h) on a loopback cluster: each event
// fires with its data, by priority, a throwing handler is logged and the
// others still run, and alter hooks change what is started.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "hub_cluster.h"

namespace {

using namespace plexus_test;
using hub::HookEvent;

class HubHooksTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.add("a");
    cluster_.add("b");
    ASSERT_EQ(cluster_.settle(), "");
  }
  hub::StartResult start(std::vector<hub::ChildSpec> specs) {
    auto f = cluster_.hub(0).start_children(std::move(specs), {.awaitable = true});
    EXPECT_TRUE(f.ok()) << f.status();
    if (!f.ok()) return {};
    EXPECT_TRUE(cluster_.net().run_until([&] { return f->ready(); }, 10s));
    return *f->await(0ms);
  }
  // Records every event member 0 fires.
  void record_all() {
    for (int e = 0; e <= static_cast<int>(HookEvent::kShutdown); ++e) {
      ASSERT_TRUE(cluster_.hub(0)
                      .register_hook(static_cast<HookEvent>(e), "log", 0,
                                     [this](HookEvent ev, const hub::HookData& d) {
                                       events_.emplace_back(ev, d);
                                     })
                      .ok());
    }
  }
  size_t count(HookEvent e) const {
    return static_cast<size_t>(
        std::count_if(events_.begin(), events_.end(), [e](const auto& p) { return p.first == e; }));
  }

  LogCapture logs_;
  HubCluster cluster_{fast_config("hooks"), &logs_};
  std::vector<std::pair<HookEvent, hub::HookData>> events_;
};

TEST_F(HubHooksTest, RegistrationsPidUpdatesAndUnregistrationsFireOnEveryMember) {
  record_all();
  ASSERT_TRUE(start(worker_specs("h", 20)).ok());
  ASSERT_EQ(cluster_.settle(), "");
  EXPECT_EQ(count(HookEvent::kChildRegistered), 20u);
  // Member 0 ran about half of them itself: its supervisor's start hooks.
  EXPECT_EQ(count(HookEvent::kPreChildrenStart), count(HookEvent::kPostChildrenStart));
  EXPECT_EQ(count(HookEvent::kPostChildrenStart),
            cluster_.hub(0).process_list(hub::Scope::kLocal).size());
  auto where = cluster_.running().by_id.at("h3").front();
  plexus_test::Text crash;
  crash.set_text("crash");
  for (size_t i = 0; i < 2; ++i) {
    if (cluster_.node(i).name() == where.first)
      (void)cluster_.node(i).runtime().send(where.second, crash);
  }
  ASSERT_EQ(cluster_.settle(), "");
  ASSERT_EQ(count(HookEvent::kChildPidUpdated), 1u);
  auto update = std::find_if(events_.begin(), events_.end(),
                             [](const auto& p) { return p.first == HookEvent::kChildPidUpdated; });
  const auto& pu = std::get<hub::PidUpdate>(update->second);
  EXPECT_EQ(pu.id, "h3");
  EXPECT_NE(pu.before, pu.after);
  auto stop = cluster_.hub(1).stop_child("h5", {.awaitable = true});
  ASSERT_TRUE(stop.ok());
  ASSERT_TRUE(cluster_.net().run_until([&] { return stop->ready(); }, 10s));
  ASSERT_EQ(cluster_.settle(), "");
  ASSERT_EQ(count(HookEvent::kChildUnregistered), 1u);
}

TEST_F(HubHooksTest, AJoinFiresNodeRedistributionAndMigrationHooks) {
  ASSERT_TRUE(start(worker_specs("j", 200)).ok());
  ASSERT_EQ(cluster_.settle(), "");
  record_all();
  size_t c = cluster_.add("c");
  // The joiner decides the segments it now heads, so it does their cold
  // swaps: its hooks are registered before the network runs again.
  std::vector<hub::Migration> migrations;
  ASSERT_TRUE(cluster_.hub(c)
                  .register_hook(HookEvent::kChildMigrated, "moves", 0,
                                 [&](HookEvent, const hub::HookData& d) {
                                   migrations.push_back(std::get<hub::Migration>(d));
                                 })
                  .ok());
  ASSERT_EQ(cluster_.settle(), "");
  ASSERT_EQ(count(HookEvent::kPreNodeJoin), 1u);
  ASSERT_EQ(count(HookEvent::kPostNodeJoin), 1u);
  auto join = std::find_if(events_.begin(), events_.end(),
                           [](const auto& p) { return p.first == HookEvent::kPostNodeJoin; });
  EXPECT_EQ(std::get<hub::NodeJoin>(join->second).nodes,
            std::vector<std::string>{cluster_.node(c).name()});
  EXPECT_GE(count(HookEvent::kPreRedistribution), 1u);
  EXPECT_GE(count(HookEvent::kPostRedistribution), 1u);
  // About a third of the 200 moved to c, each by a cold swap.
  EXPECT_EQ(migrations.size(), cluster_.hub(c).process_list(hub::Scope::kLocal).size());
  EXPECT_GT(migrations.size(), 40u);
  for (const hub::Migration& m : migrations) {
    EXPECT_EQ(m.to, cluster_.node(c).name()) << m.id;
    EXPECT_NE(m.from, m.to) << m.id;
  }
}

TEST_F(HubHooksTest, HandlersRunByPriorityAndAThrowingOneIsLogged) {
  std::vector<std::string> order;
  auto add = [&](const std::string& id, int priority, bool throws) {
    return cluster_.hub(0).register_hook(HookEvent::kChildRegistered, id, priority,
                                         [&order, id, throws](HookEvent, const hub::HookData&) {
                                           order.push_back(id);
                                           if (throws) throw std::runtime_error("boom");
                                         });
  };
  ASSERT_TRUE(add("late", 10, false).ok());
  ASSERT_TRUE(add("early", -5, true).ok());
  ASSERT_TRUE(add("middle", 0, false).ok());
  EXPECT_EQ(add("middle", 3, false).code(), plexus::StatusCode::kAlreadyExists);
  ASSERT_TRUE(start({worker_spec("one")}).ok());
  EXPECT_EQ(order, (std::vector<std::string>{"early", "middle", "late"}));
  EXPECT_GT(logs_.count(plexus::LogLevel::kError, {"hub hook 'early' threw: boom"}), 0u);
  EXPECT_TRUE(cluster_.hub(0).cancel_hook(HookEvent::kChildRegistered, "middle"));
  EXPECT_FALSE(cluster_.hub(0).cancel_hook(HookEvent::kChildRegistered, "middle"));
  order.clear();
  ASSERT_TRUE(start({worker_spec("two")}).ok());
  EXPECT_EQ(order, (std::vector<std::string>{"early", "late"}));
  EXPECT_EQ(cluster_.settle(), "") << "a throwing hook does not break the hub";
}

TEST_F(HubHooksTest, AlterHooksChangeWhatStartsAndOneThatThrowsFailsTheCall) {
  ASSERT_TRUE(cluster_.hub(0)
                  .register_alter_hook("tagger", 0,
                                       [](hub::ChildSpec& s) { s.metadata["tag"] = "altered"; })
                  .ok());
  ASSERT_TRUE(start({worker_spec("x")}).ok());
  ASSERT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.hub(1).tag_query("altered").size(), 1u) << "the altered metadata is synced";
  ASSERT_TRUE(cluster_.hub(0)
                  .register_alter_hook("refuser", 1,
                                       [](hub::ChildSpec& s) {
                                         if (s.id == "bad")
                                           throw std::runtime_error("not this one");
                                       })
                  .ok());
  auto refused = cluster_.hub(0).start_child(worker_spec("bad"));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("alter hook 'refuser' failed on bad"),
            std::string::npos);
  EXPECT_TRUE(cluster_.hub(0).cancel_alter_hook("refuser"));
  EXPECT_TRUE(start({worker_spec("bad")}).ok());
}

}  // namespace

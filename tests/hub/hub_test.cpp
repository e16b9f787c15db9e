// The hub on a loopback network: several nodes in one process, in virtual
// time, through the whole transport. Each case checks the hub's guarantees
// once the cluster has settled (hub_cluster.h).
#include "plexus/hub/hub.h"

#include <gtest/gtest.h>

#include <set>

#include "hub_cluster.h"
#include "plexus/strategies/bounded_load.h"

namespace {

using namespace plexus_test;
using plexus::Restart;
using plexus::StatusCode;

class HubTest : public ::testing::Test {
 protected:
  HubTest() : cluster_(fast_config("test"), &logs_) {}
  void TearDown() override {
    if (HasFailure()) std::cerr << logs_.dump();
  }
  void start(int nodes) {
    for (int i = 0; i < nodes; ++i) cluster_.add(std::string(1, static_cast<char>('a' + i)));
    ASSERT_EQ(cluster_.settle(), "");
  }
  // Starts `specs` through member `at` and waits for the result.
  hub::StartResult start_children(size_t at, std::vector<hub::ChildSpec> specs,
                                  hub::StartOptions options = {}) {
    options.awaitable = true;
    auto future = cluster_.hub(at).start_children(std::move(specs), options);
    EXPECT_TRUE(future.ok()) << future.status();
    if (!future.ok()) return {};
    EXPECT_TRUE(cluster_.net().run_until([&] { return future->ready(); }, 30s));
    return *future->await(0ms);
  }
  hub::StopResult stop_children(size_t at, std::vector<std::string> ids) {
    auto future = cluster_.hub(at).stop_children(std::move(ids), {.awaitable = true});
    EXPECT_TRUE(future.ok()) << future.status();
    if (!future.ok()) return {};
    EXPECT_TRUE(cluster_.net().run_until([&] { return future->ready(); }, 30s));
    return *future->await(0ms);
  }

  LogCapture logs_;
  HubCluster cluster_;
};

TEST_F(HubTest, MembersFindEachOtherAndAgreeOnOneView) {
  start(3);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(cluster_.hub(i).nodes(true).size(), 3u);
    EXPECT_EQ(cluster_.hub(i).nodes(false).size(), 2u);
    EXPECT_GT(cluster_.hub(i).view_number(), 0u);
  }
}

TEST_F(HubTest, StartedChildrenRunOnceWhereTheStrategySaysAndEveryRegistryHasThem) {
  start(3);
  hub::StartResult result = start_children(0, worker_specs("c", 300));
  EXPECT_TRUE(result.ok()) << result.errors.size() << " errors, first: "
                           << (result.errors.empty() ? "" : result.errors[0].reason);
  ASSERT_EQ(result.started.size(), 300u);
  // Read-your-writes: the caller's registry has each child when await returns.
  for (const hub::StartedChild& c : result.started) {
    ASSERT_EQ(c.nodes.size(), 1u);
    EXPECT_EQ(cluster_.hub(0).get_pid(c.id), c.nodes[0].pid) << c.id;
  }
  EXPECT_EQ(cluster_.settle(), "");
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(cluster_.hub(i).registry_dump().size(), 300u);
  EXPECT_EQ(cluster_.running().by_id.size(), 300u);
  size_t local = 0;
  for (size_t i = 0; i < 3; ++i) local += cluster_.hub(i).process_list(hub::Scope::kLocal).size();
  EXPECT_EQ(local, 300u);
}

TEST_F(HubTest, WhichChildrenAsksEveryMemberOrThisOne) {
  start(3);
  ASSERT_TRUE(start_children(0, worker_specs("wc", 30)).ok());
  ASSERT_EQ(cluster_.settle(), "");
  auto global = cluster_.hub(1).which_children(hub::Scope::kGlobal);
  ASSERT_TRUE(cluster_.net().run_until([&] { return global.ready(); }, 5s));
  std::vector<hub::NodeChildren> all = *global.await(0ms);
  ASSERT_EQ(all.size(), 3u);
  size_t total = 0;
  for (const hub::NodeChildren& n : all) {
    total += n.children.size();
    for (const auto& [id, pid] : n.children) {
      EXPECT_EQ(cluster_.canonical(cluster_.node(1), pid),
                cluster_.canonical(cluster_.node(1), cluster_.hub(1).get_pid(id)))
          << id;
    }
  }
  EXPECT_EQ(total, 30u);
  auto local = cluster_.hub(1).which_children(hub::Scope::kLocal);
  ASSERT_TRUE(cluster_.net().run_until([&] { return local.ready(); }, 5s));
  std::vector<hub::NodeChildren> mine = *local.await(0ms);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].node, cluster_.node(1).name());
  EXPECT_EQ(mine[0].children.size(), cluster_.hub(1).process_list(hub::Scope::kLocal).size());
}

TEST_F(HubTest, ARollbackStopsWhatTheFailedCallStarted) {
  start(2);
  auto bad = worker_spec("bad");
  bad.type = "no-such-type";
  hub::StartResult r =
      start_children(0, {worker_spec("good"), bad}, {.on_failure = hub::OnFailure::kRollback});
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.rollback);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].id, "bad");
  ASSERT_EQ(r.started.size(), 1u);
  EXPECT_EQ(r.started[0].id, "good");
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.running().copies("good"), 0u) << "rolled back";
  EXPECT_TRUE(cluster_.hub(1).process_list().empty());
}

TEST_F(HubTest, ACallsMetadataGoesWithEveryChildAndATagFindsThem) {
  start(2);
  hub::StartResult r = start_children(1, worker_specs("m", 5), {.metadata = {{"tag", "group"}}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.hub(0).tag_query("group").size(), 5u);
  auto info = cluster_.hub(0).child_lookup("m2");
  ASSERT_TRUE(info);
  EXPECT_EQ(info->metadata().at("tag"), "group");
}

TEST_F(HubTest, ALookupIntoACallersChildInfoGivesWhatTheCopyingOneGives) {
  start(2);
  ASSERT_TRUE(start_children(0, worker_specs("r", 2), {.metadata = {{"tag", "t"}}}).ok());
  EXPECT_EQ(cluster_.settle(), "");
  hub::ChildInfo info;
  info.nodes.resize(3);  // a previous answer's, longer than this one's
  ASSERT_TRUE(cluster_.hub(1).child_lookup("r0", info));
  std::optional<hub::ChildInfo> copy = cluster_.hub(1).child_lookup("r0");
  ASSERT_TRUE(copy);
  EXPECT_EQ(info.id, "r0");
  EXPECT_EQ(info.nodes, copy->nodes);
  ASSERT_EQ(info.nodes.size(), 1u);
  EXPECT_EQ(info.spec->id, "r0");
  EXPECT_EQ(info.metadata().at("tag"), "t");
  EXPECT_FALSE(cluster_.hub(1).child_lookup("nope", info));
  EXPECT_EQ(info.id, "r0") << "an unknown id leaves the answer as it was";
  ASSERT_TRUE(cluster_.hub(1).child_lookup("r1", info));
  EXPECT_EQ(info.id, "r1");
  EXPECT_EQ(info.spec->id, "r1");
}

TEST_F(HubTest, ANotAwaitedStartIsReadyAtOnceAndStartsInTheBackground) {
  start(2);
  auto f = cluster_.hub(0).start_children(worker_specs("bg", 10));
  ASSERT_TRUE(f.ok());
  EXPECT_TRUE(f->ready());
  EXPECT_TRUE(f->await(0ms)->started.empty()) << "ProcessHub's start_initiated";
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.running().by_id.size(), 10u);
}

TEST(HubStaticChildrenTest, EveryMemberAsksForThemAndEachStartsOnce) {
  hub::HubConfig c = fast_config("test");
  c.child_specs = {worker_spec("s1"), worker_spec("s2"), worker_spec("s3")};
  HubCluster cluster(c);
  for (const char* n : {"a", "b", "c"}) cluster.add(n);
  std::set<std::string> expected{"s1", "s2", "s3"};
  EXPECT_EQ(cluster.settle(), "");
  EXPECT_EQ(cluster.check(&expected), "");
  EXPECT_EQ(cluster.running().by_id.size(), 3u);
}

TEST_F(HubTest, AStartOfARunningIdIsAlreadyStartedWithItsPid) {
  start(2);
  hub::StartResult first = start_children(0, {worker_spec("x")});
  ASSERT_TRUE(first.ok());
  auto refused = cluster_.hub(0).start_child(worker_spec("x"), {.awaitable = true});
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(refused.status().message(), "already_started x");
  hub::StartResult again = start_children(1, {worker_spec("x")}, {.check_existing = false});
  ASSERT_EQ(again.errors.size(), 1u);
  EXPECT_EQ(again.errors[0].reason, "already_started");
  EXPECT_EQ(cluster_.canonical(cluster_.node(1), again.errors[0].pid),
            cluster_.canonical(cluster_.node(0), first.pid()));
  EXPECT_EQ(cluster_.running().copies("x"), 1u);
}

TEST_F(HubTest, TheSameIdTwiceInOneCallStartsOnceAndReportsTheOtherAsAlreadyStarted) {
  start(2);
  hub::StartResult r = start_children(0, {worker_spec("twice"), worker_spec("twice")});
  EXPECT_EQ(r.started.size(), 1u);
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_EQ(r.errors[0].reason, "already_started");
  EXPECT_EQ(r.errors[0].pid, r.pid());
  EXPECT_EQ(cluster_.running().copies("twice"), 1u);
}

TEST_F(HubTest, ConcurrentStartsOfOneIdFromEveryMemberGiveOneChild) {
  start(3);
  std::vector<hub::Future<hub::StartResult>> futures;
  for (size_t i = 0; i < 3; ++i) {
    auto f = cluster_.hub(i).start_child(worker_spec("race"),
                                         {.awaitable = true, .check_existing = false});
    ASSERT_TRUE(f.ok());
    futures.push_back(*f);
  }
  ASSERT_TRUE(cluster_.net().run_until(
      [&] {
        return std::all_of(futures.begin(), futures.end(), [](auto& f) { return f.ready(); });
      },
      10s));
  int started = 0, already = 0;
  std::set<std::string> pids;
  for (size_t i = 0; i < 3; ++i) {
    hub::StartResult r = *futures[i].await(0ms);
    started += static_cast<int>(r.started.size());
    for (const auto& e : r.errors) {
      EXPECT_EQ(e.reason, "already_started");
      ++already;
      pids.insert(cluster_.canonical(cluster_.node(i), e.pid));
    }
    if (!r.started.empty()) pids.insert(cluster_.canonical(cluster_.node(i), r.pid()));
  }
  EXPECT_EQ(started, 1);
  EXPECT_EQ(already, 2);
  EXPECT_EQ(pids.size(), 1u) << "every caller names the same pid";
  EXPECT_EQ(cluster_.settle(), "");
}

TEST_F(HubTest, StoppedChildrenEndAndLeaveEveryRegistry) {
  start(3);
  ASSERT_TRUE(start_children(1, worker_specs("s", 60)).ok());
  std::vector<std::string> ids;
  for (int i = 0; i < 20; ++i) ids.push_back("s" + std::to_string(i));
  hub::StopResult stopped = stop_children(2, ids);
  EXPECT_TRUE(stopped.ok());
  EXPECT_EQ(stopped.stopped.size(), 20u);
  for (const auto& s : stopped.stopped) {
    EXPECT_EQ(s.nodes.size(), 1u);
    EXPECT_FALSE(cluster_.hub(2).child_lookup(s.id)) << "read-your-writes for stops";
  }
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.running().by_id.size(), 40u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(cluster_.hub(i).registry_dump().size(), 40u);
  hub::StopResult unknown = stop_children(0, {"nobody"});
  ASSERT_EQ(unknown.errors.size(), 1u);
  EXPECT_EQ(unknown.errors[0].reason, "not_found");
}

TEST_F(HubTest, AStartAfterAStopStartsAgainAndTheTombstoneDoesNotWin) {
  start(2);
  ASSERT_TRUE(start_children(0, {worker_spec("again")}).ok());
  ASSERT_TRUE(stop_children(1, {"again"}).ok());
  hub::StartResult r = start_children(1, {worker_spec("again")});
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.running().copies("again"), 1u);
}

TEST_F(HubTest, ACrashedMembersChildrenRunAgainOnTheSurvivors) {
  start(3);
  ASSERT_TRUE(start_children(0, worker_specs("f", 300)).ok());
  ASSERT_EQ(cluster_.settle(), "");
  size_t on_c = cluster_.hub(2).process_list(hub::Scope::kLocal).size();
  EXPECT_GT(on_c, 50u);
  cluster_.crash(2);
  std::set<std::string> expected;
  for (int i = 0; i < 300; ++i) expected.insert("f" + std::to_string(i));
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.check(&expected), "");
  EXPECT_EQ(cluster_.running().by_id.size(), 300u);
}

TEST_F(HubTest, AJoinMovesAboutItsShareOfTheChildrenByColdSwap) {
  start(3);
  ASSERT_TRUE(start_children(0, worker_specs("j", 1000)).ok());
  ASSERT_EQ(cluster_.settle(), "");
  std::map<std::string, std::string> before;
  for (const auto& [id, where] : cluster_.running().by_id) before[id] = where.front().first;
  cluster_.add("d");
  EXPECT_EQ(cluster_.settle(), "");
  size_t moved = 0;
  for (const auto& [id, where] : cluster_.running().by_id)
    moved += before[id] != where.front().first;
  // 1/(n+1) = 250 of 1000, within the spread of 4096 segments' ranking.
  EXPECT_GT(moved, 200u);
  EXPECT_LT(moved, 300u);
  EXPECT_EQ(cluster_.hub(3).process_list(hub::Scope::kLocal).size(), moved);
}

// The messages of a join that grow with the children (each member's handoff
// to the joiner, each decider's records for it, the records of its moves)
// go in parts (hub/src/message_parts.h): with a frame limit of 128 KiB, a
// joiner among 9,000 children gets about 250 KiB of records from each
// decider, which in one frame would cost the connection again and again.
// The network duplicates a fifth of the messages (parts taken twice) and
// now and then loses a connection (parts lost: the round runs again).
TEST_F(HubTest, AJoinWhoseRecordsPassTheFrameLimitGetsThemInParts) {
  cluster_.set_max_frame_size(128 << 10);
  start(2);
  for (int call = 0; call < 9; ++call) {
    ASSERT_TRUE(
        start_children(call % 2, worker_specs("f" + std::to_string(call) + "_", 1000)).ok());
  }
  ASSERT_EQ(cluster_.settle(), "");
  plexus::LoopbackFaults faults;
  faults.max_delay = 5ms;
  faults.duplicate = 0.2;
  faults.reset = 0.002;
  cluster_.net().set_faults(faults);
  cluster_.add("c");
  ASSERT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.check(), "");
  EXPECT_EQ(cluster_.hub(2).child_count(), 9000u);
  EXPECT_GT(cluster_.hub(2).process_list(hub::Scope::kLocal).size(), 2500u);
  EXPECT_EQ(logs_.count(plexus::LogLevel::kDebug, {"above the limit"}), 0u) << "no frame passed it";
  EXPECT_EQ(cluster_.running().by_id.size(), 9000u);
}

// What each member's metrics say of the children: where they run, what it
// started, and what a join moved.
TEST_F(HubTest, MetricsCountTheChildrenTheirStartsAndTheMovesOfAJoin) {
  start(3);
  ASSERT_TRUE(start_children(0, worker_specs("m", 300)).ok());
  ASSERT_EQ(cluster_.settle(), "");
  auto sum = [&](const char* name) {
    double total = 0;
    for (size_t i = 0; i < cluster_.size(); ++i) {
      plexus::MetricsWriter w;
      cluster_.node(i).runtime().metrics().collect(w);
      EXPECT_EQ(w.rejected(), 0u);
      std::optional<double> v = w.value(name, {{"hub", "test"}});
      EXPECT_TRUE(v.has_value()) << name << " on member " << i;
      total += v.value_or(0);
    }
    return total;
  };
  EXPECT_EQ(sum("plexus_hub_local_children"), 300);
  EXPECT_EQ(sum("plexus_hub_children"), 3 * 300);
  // Every member's registry says where each child's first copy runs.
  for (size_t i = 0; i < 3; ++i) {
    std::map<std::string, size_t> by_node = cluster_.hub(i).children_by_node();
    ASSERT_EQ(by_node.size(), 3u) << "member " << i;
    for (size_t j = 0; j < 3; ++j) {
      EXPECT_EQ(by_node[cluster_.node(j).name()],
                cluster_.hub(j).process_list(hub::Scope::kLocal).size())
          << "member " << i << "'s count of " << cluster_.node(j).name();
    }
  }
  EXPECT_EQ(sum("plexus_hub_members"), 3 * 3);
  EXPECT_EQ(sum("plexus_hub_children_started_total"), 300);
  EXPECT_EQ(sum("plexus_hub_migrations_total"), 0);
  EXPECT_GE(sum("plexus_hub_records_applied_total"), 3 * 300);
  std::map<std::string, std::string> before;
  for (const auto& [id, where] : cluster_.running().by_id) before[id] = where.front().first;
  cluster_.add("d");
  ASSERT_EQ(cluster_.settle(), "");
  double moved = 0;
  for (const auto& [id, where] : cluster_.running().by_id)
    moved += before[id] != where.front().first;
  EXPECT_GT(moved, 0);
  EXPECT_EQ(sum("plexus_hub_migrations_total"), moved);
  EXPECT_EQ(sum("plexus_hub_children_halted_total"), moved);  // a cold swap halts, then starts
  EXPECT_EQ(sum("plexus_hub_children_started_total"), 300 + moved);
  EXPECT_EQ(sum("plexus_hub_local_children"), 300);
  EXPECT_EQ(sum("plexus_hub_members"), 4 * 4);
}

TEST_F(HubTest, AGracefulStopHandsTheChildrenToTheOthers) {
  start(3);
  ASSERT_TRUE(start_children(0, worker_specs("g", 200)).ok());
  ASSERT_EQ(cluster_.settle(), "");
  auto stopped = cluster_.hub(1).stop();
  ASSERT_TRUE(cluster_.net().run_until([&] { return stopped.ready(); }, 30s));
  EXPECT_TRUE(stopped.await(0ms).ok());
  EXPECT_FALSE(cluster_.hub(1).is_alive());
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.running().by_id.size(), 200u);
}

TEST_F(HubTest, ARestartedChildsNewPidReachesEveryRegistry) {
  start(3);
  hub::StartResult r = start_children(0, {worker_spec("r")});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(cluster_.settle(), "");
  auto where = cluster_.running().by_id.at("r").front();
  Node* owner = nullptr;
  for (size_t i = 0; i < 3; ++i) {
    if (cluster_.node(i).name() == where.first) owner = &cluster_.node(i);
  }
  ASSERT_NE(owner, nullptr);
  plexus_test::Text crash;
  crash.set_text("crash");
  ASSERT_TRUE(owner->runtime().send(where.second, crash).ok());
  EXPECT_EQ(cluster_.settle(), "");
  auto now = cluster_.running().by_id.at("r").front();
  EXPECT_NE(now.second, where.second);
}

TEST_F(HubTest, ATransientChildThatEndsNormallyLeavesEveryRegistry) {
  start(2);
  ASSERT_TRUE(start_children(0, {worker_spec("t", Restart::kTransient)}).ok());
  ASSERT_EQ(cluster_.settle(), "");
  auto where = cluster_.running().by_id.at("t").front();
  plexus_test::Text stop;
  stop.set_text("stop");
  for (size_t i = 0; i < 2; ++i) {
    if (cluster_.node(i).name() == where.first) {
      ASSERT_TRUE(cluster_.node(i).runtime().send(where.second, stop).ok());
    }
  }
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.running().copies("t"), 0u);
  for (size_t i = 0; i < 2; ++i) EXPECT_FALSE(cluster_.hub(i).child_lookup("t"));
}

TEST_F(HubTest, BothSidesOfAPartitionRunAndTheHealLeavesOneOfEach) {
  start(3);
  ASSERT_TRUE(start_children(0, worker_specs("p", 100)).ok());
  ASSERT_EQ(cluster_.settle(), "");
  const std::string a = cluster_.node(0).name(), b = cluster_.node(1).name(),
                    c = cluster_.node(2).name();
  cluster_.net().cut(a, c);
  cluster_.net().cut(b, c);
  // Each side settles on its own view and runs every child (divergence).
  ASSERT_TRUE(cluster_.net().run_until(
      [&] {
        return cluster_.hub(2).nodes(true).size() == 1 && !cluster_.hub(2).is_locked() &&
               cluster_.hub(0).nodes(true).size() == 2 && !cluster_.hub(0).is_locked() &&
               cluster_.running().by_id.size() == 100 &&
               std::all_of(cluster_.running().by_id.begin(), cluster_.running().by_id.end(),
                           [](const auto& e) { return e.second.size() == 2; });
      },
      30s));
  // A child started on one side only.
  ASSERT_TRUE(start_children(2, {worker_spec("only-c")}).ok());
  cluster_.net().heal(a, c);
  cluster_.net().heal(b, c);
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.running().by_id.size(), 101u);
}

// a-b and b-c up, a-c down: b does not sit in two views at once. The hub
// cuts c off (the larger name of the lost link's ends), so the groups are
// {a, b} and {c}, each runs every child once, the views stay still, and the
// heal leaves one of each.
TEST_F(HubTest, ANonTransitivePartitionEndsInCleanGroupsThatStayStill) {
  start(3);
  ASSERT_TRUE(start_children(0, worker_specs("n", 100)).ok());
  ASSERT_EQ(cluster_.settle(), "");
  const std::string a = cluster_.node(0).name(), b = cluster_.node(1).name(),
                    c = cluster_.node(2).name();
  cluster_.net().cut(a, c);
  auto nodes = [&](size_t i) { return cluster_.hub(i).nodes(true); };
  auto clean = [&] {
    return nodes(0) == std::vector<std::string>{a, b} && nodes(1) == nodes(0) &&
           nodes(2) == std::vector<std::string>{c} && !cluster_.hub(0).is_locked() &&
           !cluster_.hub(1).is_locked() && !cluster_.hub(2).is_locked() &&
           cluster_.running().by_id.size() == 100 &&
           std::all_of(cluster_.running().by_id.begin(), cluster_.running().by_id.end(),
                       [](const auto& e) { return e.second.size() == 2; });
  };
  ASSERT_TRUE(cluster_.net().run_until(clean, 30s)) << cluster_.views();
  // Still for a while: no member flaps between the sides.
  std::vector<uint64_t> numbers;
  for (size_t i = 0; i < 3; ++i) numbers.push_back(cluster_.hub(i).view_number());
  cluster_.net().advance(20s);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(cluster_.hub(i).view_number(), numbers[i]) << i;
  EXPECT_TRUE(clean()) << cluster_.views();
  cluster_.net().heal(a, c);
  EXPECT_EQ(cluster_.settle(), "");
  EXPECT_EQ(cluster_.running().by_id.size(), 100u);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(nodes(i).size(), 3u);
}

TEST_F(HubTest, AMemberWithADifferentConfigurationIsRefusedWithBothSignatures) {
  start(2);
  hub::HubConfig other = fast_config("test");
  other.segments = 1024;
  size_t odd = cluster_.add("odd", &other);
  ASSERT_TRUE(cluster_.net().run_until([&] { return !cluster_.hub(odd).refusal().empty(); }, 5s));
  EXPECT_NE(cluster_.hub(odd).refusal().find("segments=4096"), std::string::npos)
      << cluster_.hub(odd).refusal();
  EXPECT_NE(cluster_.hub(odd).refusal().find("segments=1024"), std::string::npos);
  cluster_.net().advance(1s);
  EXPECT_EQ(cluster_.hub(0).nodes(true).size(), 2u);
  EXPECT_EQ(cluster_.hub(odd).nodes(true).size(), 1u);
}

TEST_F(HubTest, CallErrorsComeBackAtOnce) {
  start(1);
  auto none = cluster_.hub(0).start_children({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().message(), "no_children");
  hub::HubConfig bad = fast_config("test");
  bad.hub_id = "";
  EXPECT_EQ(hub::Hub::start(cluster_.node(0), bad).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(hub::Hub::start(cluster_.node(0), fast_config("test")).status().code(),
            StatusCode::kAlreadyExists);
  auto unknown_type = worker_spec("u");
  unknown_type.type = "nope";
  hub::StartResult r = start_children(0, {unknown_type});
  ASSERT_EQ(r.errors.size(), 1u);
  EXPECT_NE(r.errors[0].reason.find("no process type 'nope'"), std::string::npos)
      << r.errors[0].reason;
  EXPECT_FALSE(cluster_.hub(0).child_lookup("u")) << "a start that failed registers nothing";
}

}  // namespace

namespace {

// Bounded load: the decider places by the members' loads (the registry's
// counts and its own starts in flight), so no member holds more than the
// bound, and the nodes are recorded with each child.
TEST(HubBoundedLoadTest, NoMemberHoldsMoreThanItsBound) {
  hub::HubConfig c = fast_config("test");
  c.distribution = std::make_shared<plexus::strategies::BoundedLoad>(
      *plexus::strategies::BoundedLoad::make(1.1));
  LogCapture logs;
  HubCluster cluster(c, &logs);
  for (const char* n : {"a", "b", "c"}) cluster.add(n);
  ASSERT_EQ(cluster.settle(), "");
  for (int round = 0; round < 3; ++round) {
    auto f = cluster.hub(static_cast<size_t>(round))
                 .start_children(worker_specs("b" + std::to_string(round) + "-", 100),
                                 {.awaitable = true});
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(cluster.net().run_until([&] { return f->ready(); }, 10s));
    ASSERT_TRUE(f->await(0ms)->ok());
  }
  ASSERT_EQ(cluster.settle(), "");
  std::map<std::string, size_t> per_node;
  for (const auto& [id, where] : cluster.running().by_id) ++per_node[where.front().first];
  ASSERT_EQ(cluster.running().by_id.size(), 300u);
  for (const auto& [node, n] : per_node) EXPECT_LE(n, 110u) << node;
}

}  // namespace

namespace {

// dsup_max_restarts in dsup_max_seconds: a child that crashes once too often
// is given up, and leaves every registry.
TEST(HubIntensityTest, AChildThatRestartsTooOftenIsGivenUpEverywhere) {
  hub::HubConfig c = fast_config("test");
  c.dsup_max_restarts = 2;
  c.dsup_max_seconds = std::chrono::seconds(10);
  LogCapture logs;
  HubCluster cluster(c, &logs);
  cluster.add("a");
  cluster.add("b");
  ASSERT_EQ(cluster.settle(), "");
  auto f = cluster.hub(0).start_child(worker_spec("flaky"), {.awaitable = true});
  ASSERT_TRUE(f.ok());
  ASSERT_TRUE(cluster.net().run_until([&] { return f->ready(); }, 10s));
  plexus_test::Text crash;
  crash.set_text("crash");
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(cluster.settle(), "") << "crash " << i;
    auto where = cluster.running().by_id.at("flaky").front();
    for (size_t n = 0; n < 2; ++n) {
      if (cluster.node(n).name() == where.first) {
        ASSERT_TRUE(cluster.node(n).runtime().send(where.second, crash).ok());
      }
    }
    cluster.net().advance(100ms);
  }
  EXPECT_EQ(cluster.settle(), "");
  EXPECT_EQ(cluster.running().copies("flaky"), 0u);
  for (size_t n = 0; n < 2; ++n) EXPECT_FALSE(cluster.hub(n).child_lookup("flaky"));
  EXPECT_GT(logs.count(plexus::LogLevel::kError, {"flaky", "restarted too often"}), 0u);
}

}  // namespace

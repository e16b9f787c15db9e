// The hub with real OS processes: plexus-node daemons on 127.0.0.1 hosting a
// hub, driven with plexusctl exactly as an operator would, through kill -9,
// SIGSTOP and partitions made with `plexusctl net block`. Checks plexusctl's
// contract (its lines, its exit codes) and the hub's guarantees: once quiet,
// every child runs exactly once and every registry agrees.
#include <algorithm>
#include <atomic>
#include <thread>

#include "hub_process_fixture.h"

namespace {

using namespace plexus_test;

class HubReplicatedProcessTest : public HubProcessTest {
 protected:
  HubReplicatedProcessTest() {
    hub_args_ = {"--hub-redundancy",        "replication",   "--hub-replicas", "2",
                 "--hub-replication-model", "active_passive"};
    copies_ = 2;
  }
};

TEST_F(HubReplicatedProcessTest, AKilledReplicaHostsCopiesStartAgainAndCallsReachTheActiveCopy) {
  std::set<std::string> ids = start_many("r", 1000);
  ASSERT_FALSE(ids.empty());
  Ctl lookup = ctl(d("a").name(), {"hub", "demo", "lookup", "r7"});
  ASSERT_EQ(lookup.code, 0) << lookup.err;
  EXPECT_EQ(std::count(lookup.lines[0].begin(), lookup.lines[0].end(), '@'), 2)
      << "two copies: " << lookup.lines[0];
  Ctl incr = ctl(d("b").name(), {"hub", "demo", "call", "r7", "incr"});
  ASSERT_EQ(incr.code, 0) << incr.err;
  d("c").process().kill_and_wait();  // kill -9
  daemons_["c"].reset();
  ASSERT_TRUE(settled(2));
  EXPECT_EQ(converged(ids), "");
  Ctl get = ctl(d("a").name(), {"hub", "demo", "call", "r7", "get"});
  ASSERT_EQ(get.code, 0) << get.err;
}

class HubHotSwapProcessTest : public HubProcessTest {
 protected:
  HubHotSwapProcessTest() {
    hub_args_ = {"--hub-migration", "hot_swap", "--hub-migr-timeout-ms", "3000"};
  }
  // The ids of `ids` whose copy runs on daemon `base`.
  std::vector<std::string> local_to(const std::string& base) {
    std::vector<std::string> out;
    for (const std::string& l : ctl(d(base).name(), {"hub", "demo", "list", "--local"}).lines) {
      out.push_back(field(l, "id"));
    }
    return out;
  }
};

// `plexusctl hub demo drain` and SIGTERM each take a node out of the hub
// with every counter's value: the children move off it by hot swap.
TEST_F(HubHotSwapProcessTest, ADrainAndASigtermHandEveryCounterOverWithItsValue) {
  std::set<std::string> ids = start_many("h", 300);
  ASSERT_FALSE(ids.empty());
  std::map<std::string, int> values;  // children of c and of b, raised
  for (const char* base : {"c", "b"}) {
    std::vector<std::string> here = local_to(base);
    ASSERT_GE(here.size(), 10u) << base;
    for (size_t i = 0; i < 5; ++i) {
      ASSERT_TRUE(raise("a", here[i], static_cast<int>(i) + 1));
      values[here[i]] = static_cast<int>(i) + 1;
    }
  }
  Ctl drain = ctl(d("c").name(), {"hub", "demo", "drain"});
  ASSERT_EQ(drain.code, 0) << drain.err;
  EXPECT_EQ(field(drain.lines.at(0), "drained"), "true") << drain.lines[0];
  Ctl status = ctl(d("c").name(), {"hub", "demo", "status"});
  EXPECT_EQ(field(status.lines.at(0), "alive"), "false") << status.lines[0];
  EXPECT_TRUE(local_to("c").empty());
  // The daemon runs on, out of the hub: the others settle without it.
  auto drained = std::move(daemons_["c"]);
  ASSERT_TRUE(settled(2));
  ASSERT_EQ(converged(ids), "");
  // SIGTERM: the daemon's hubs leave gracefully, the same way.
  ASSERT_TRUE(terminate("b"));
  ASSERT_TRUE(settled(1));
  ASSERT_EQ(converged(ids), "");
  for (const auto& [id, value] : values) EXPECT_EQ(value_of("a", id), std::to_string(value)) << id;
  drained.reset();
}

// kill -9 mid-handover: while c drains, b (the new home of about half of
// c's children) is stopped, so that its handovers hang, and then killed.
// The drain still ends, and every child runs once on the survivor.
TEST_F(HubHotSwapProcessTest, AKillOfTheNewHomeMidDrainLosesNoChild) {
  std::set<std::string> ids = start_many("m", 600);
  ASSERT_FALSE(ids.empty());
  size_t on_c = local_to("c").size();
  ASSERT_GT(on_c, 100u);
  pid_t b = d("b").process().pid();
  ASSERT_EQ(kill(b, SIGSTOP), 0);
  Ctl drain;
  std::thread draining([&] { drain = ctl(d("c").name(), {"hub", "demo", "drain"}); });
  // The moves to a are done while those to b hang: mid-handover.
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (local_to("c").size() == on_c) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "nothing moved to a";
  }
  d("b").process().kill_and_wait();
  daemons_["b"].reset();
  draining.join();
  ASSERT_EQ(drain.code, 0) << drain.err;
  EXPECT_TRUE(local_to("c").empty());
  auto drained = std::move(daemons_["c"]);
  ASSERT_TRUE(settled(1));
  EXPECT_EQ(converged(ids), "");
}

// A rolling restart: each node in turn gets SIGTERM (its children move off
// by hot swap, with their values), and starts again (a new node, on a new
// port; children move onto it by hot swap too). After the three, every
// child runs once and every raised counter has its value.
TEST_F(HubHotSwapProcessTest, ARollingRestartLosesNoChildAndNoHandedOverState) {
  std::set<std::string> ids = start_many("o", 300);
  ASSERT_FALSE(ids.empty());
  std::map<std::string, int> values;  // five children of each node, raised
  for (const char* base : {"a", "b", "c"}) {
    std::vector<std::string> here = local_to(base);
    ASSERT_GE(here.size(), 10u) << base;
    for (size_t i = 0; i < 5; ++i) {
      ASSERT_TRUE(raise("a", here[i], static_cast<int>(i) + 1));
      values[here[i]] = static_cast<int>(i) + 1;
    }
  }
  for (const char* base : {"a", "b", "c"}) {
    ASSERT_TRUE(terminate(base));
    ASSERT_TRUE(settled(2)) << "without " << base;
    ASSERT_EQ(converged(ids), "") << "without " << base;
    start(base);
    ASSERT_TRUE(settled(3)) << base << " back";
    ASSERT_EQ(converged(ids), "") << base << " back";
    EXPECT_FALSE(local_to(base).empty()) << base << " took no child back";
  }
  for (const auto& [id, value] : values) EXPECT_EQ(value_of("b", id), std::to_string(value)) << id;
}

// kill -9 of the old home mid-handover: c drains while b (the new home of
// about half of c's children) is stopped, so that its handovers hang; once
// the moves to a are done, c is killed and b continued. What c had not
// handed over starts again from nothing, once; what it had keeps its value.
TEST_F(HubHotSwapProcessTest, AKillOfTheOldHomeMidHandoverLosesNoChild) {
  std::set<std::string> ids = start_many("w", 600);
  ASSERT_FALSE(ids.empty());
  std::vector<std::string> on_c = local_to("c");
  ASSERT_GT(on_c.size(), 100u);
  for (size_t i = 0; i <= 20; ++i) ASSERT_TRUE(raise("a", on_c[i], 1));  // 21 raised to 1
  pid_t b = d("b").process().pid();
  ASSERT_EQ(kill(b, SIGSTOP), 0);
  auto stopped = std::move(daemons_["b"]);
  std::thread draining([&] {
    ctl(d("c").name(), {"--timeout-ms", "2000", "hub", "demo", "drain"});
  });
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (local_to("c").size() == on_c.size()) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "nothing moved to a";
  }
  std::vector<std::string> on_a = local_to("a");  // handed over, state and all
  d("c").process().kill_and_wait();
  daemons_["c"].reset();
  ASSERT_EQ(kill(b, SIGCONT), 0);
  daemons_["b"] = std::move(stopped);
  draining.join();
  ASSERT_TRUE(settled(2));
  EXPECT_EQ(converged(ids), "");
  // Each raised counter that a ran before the kill kept its value; the
  // others either moved with it or started again.
  for (size_t i = 0; i <= 20; ++i) {
    std::string v = value_of("a", on_c[i]);
    bool handed_over = std::find(on_a.begin(), on_a.end(), on_c[i]) != on_a.end();
    EXPECT_TRUE(v == "1" || (!handed_over && v == "0")) << on_c[i] << " = " << v;
  }
}

TEST_F(HubProcessTest, PlexusctlSpeaksItsContract) {
  const std::string a = d("a").name();
  Ctl nodes = ctl(a, {"nodes"});
  ASSERT_EQ(nodes.code, 0) << nodes.err;
  ASSERT_EQ(nodes.lines.size(), 3u);
  for (const std::string& l : nodes.lines) {
    EXPECT_EQ(field(l, "up"), "true") << l;
    EXPECT_NE(field(l, "creation"), "0") << l;
  }
  Ctl status = ctl(a, {"hub", "demo", "status"});
  ASSERT_EQ(status.code, 0);
  EXPECT_EQ(field(status.lines[0], "alive"), "true");
  EXPECT_EQ(field(status.lines[0], "partitioned"), "false");
  EXPECT_EQ(field(status.lines[0], "children"), "0");
  Ctl resize = ctl(a, {"hub", "demo", "resize", "2"});
  EXPECT_EQ(resize.code, 1) << "divergence has no cluster size";
  EXPECT_NE(resize.err.find("divergence"), std::string::npos) << resize.err;

  Ctl started =
      ctl(a, {"hub", "demo", "start", "room:1", "--type", "counter", "--meta", "tag=rooms"});
  ASSERT_EQ(started.code, 0) << started.err;
  EXPECT_EQ(field(started.lines[0], "status"), "ok");
  Ctl again = ctl(d("b").name(), {"hub", "demo", "start", "room:1", "--type", "counter"});
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already_started"), std::string::npos) << again.err;

  Ctl lookup = ctl(d("c").name(), {"hub", "demo", "lookup", "room:1"});
  ASSERT_EQ(lookup.code, 0) << lookup.err;
  EXPECT_EQ(field(lookup.lines[0], "id"), "room:1");
  EXPECT_NE(lookup.lines[0].find("\"metadata\":{\"tag\":\"rooms\"}"), std::string::npos);

  EXPECT_EQ(field(ctl(a, {"hub", "demo", "call", "room:1", "incr"}).lines.at(0), "value"), "1");
  EXPECT_EQ(
      field(ctl(d("b").name(), {"hub", "demo", "call", "room:1", "incr"}).lines.at(0), "value"),
      "2");
  Ctl text = ctl(a, {"hub", "demo", "call", "room:1", "get"}, /*json=*/false);
  EXPECT_EQ(text.lines, std::vector<std::string>{"id=room:1 value=2"});

  Ctl many = ctl(a, {"hub", "demo", "start-many", "m", "500", "--type", "counter"});
  ASSERT_EQ(many.code, 0) << many.err;
  EXPECT_EQ(field(many.lines[0], "started"), "500");
  EXPECT_EQ(field(many.lines[0], "errors"), "0");
  EXPECT_EQ(ctl(a, {"hub", "demo", "list"}).lines.size(), 501u);

  Ctl stopped = ctl(d("b").name(), {"hub", "demo", "stop", "room:1"});
  ASSERT_EQ(stopped.code, 0) << stopped.err;
  EXPECT_EQ(field(stopped.lines[0], "status"), "ok");
  Ctl gone = ctl(d("b").name(), {"hub", "demo", "lookup", "room:1"});
  EXPECT_EQ(gone.code, 1);
  EXPECT_TRUE(gone.lines.empty());
  EXPECT_NE(gone.err.find("no child 'room:1'"), std::string::npos) << gone.err;

  Ctl wrong = ctl(a, {"nodes"}, true, {"PLEXUS_COOKIE=not-the-cookie"});
  EXPECT_EQ(wrong.code, 1);
  EXPECT_NE(wrong.err.find("wrong cookie"), std::string::npos) << wrong.err;
  Ctl nobody = ctl("z@127.0.0.1:1", {"nodes"});
  EXPECT_EQ(nobody.code, 1);
  EXPECT_NE(nobody.err.find("cannot reach z@127.0.0.1:1"), std::string::npos) << nobody.err;
  EXPECT_EQ(ctl(a, {"hub", "demo", "start", "x"}).code, 2) << "--type is required";
  EXPECT_EQ(ctl(a, {"frobnicate"}).code, 2);
  Ctl no_hub = ctl(a, {"hub", "other", "status"});
  EXPECT_EQ(no_hub.code, 1);
  EXPECT_NE(no_hub.err.find("no hub 'other'"), std::string::npos);
  // plexusctl was never a member: three nodes still.
  EXPECT_EQ(ctl(a, {"nodes"}).lines.size(), 3u);
}

// info, metrics and process: what plexusctl shows of a live node.
TEST_F(HubProcessTest, PlexusctlLooksIntoANode) {
  const std::string a = d("a").name();
  Ctl info = ctl(a, {"info"});
  ASSERT_EQ(info.code, 0) << info.err;
  ASSERT_EQ(info.lines.size(), 1u);
  EXPECT_EQ(field(info.lines[0], "node"), a);
  EXPECT_EQ(field(info.lines[0], "creation"), std::to_string(d("a").creation()));
  EXPECT_GT(std::stoi(field(info.lines[0], "processes")), 3);
  EXPECT_NE(info.lines[0].find("\"hubs\":[\"demo\"]"), std::string::npos) << info.lines[0];
  EXPECT_NE(info.lines[0].find(d("b").name()), std::string::npos) << info.lines[0];
  EXPECT_NE(info.lines[0].find(d("c").name()), std::string::npos) << info.lines[0];

  ASSERT_EQ(ctl(a, {"hub", "demo", "start", "seen", "--type", "counter"}).code, 0);
  Ctl lookup = ctl(a, {"hub", "demo", "lookup", "seen"});
  ASSERT_EQ(lookup.code, 0) << lookup.err;
  std::string where = field(lookup.lines[0], "node");
  std::string pid = field(lookup.lines[0], "pid");
  Ctl process = ctl(where, {"process", pid});
  ASSERT_EQ(process.code, 0) << process.err;
  EXPECT_EQ(field(process.lines[0], "pid"), pid);
  EXPECT_EQ(field(process.lines[0], "message_queue_len"), "0");
  EXPECT_EQ(field(process.lines[0], "status"), "waiting");
  // A hub child is linked to its node's hub server.
  EXPECT_NE(process.lines[0].find("\"links\":[\"<0."), std::string::npos) << process.lines[0];
  Ctl text = ctl(where, {"process", pid}, /*json=*/false);
  ASSERT_EQ(text.code, 0);
  EXPECT_TRUE(text.lines.at(0).starts_with("pid=" + pid + " status=waiting")) << text.lines[0];

  Ctl metrics = ctl(where, {"metrics"}, /*json=*/false);
  ASSERT_EQ(metrics.code, 0) << metrics.err;
  std::string node_label = "{node=\"" + where + "\",hub=\"demo\"}";
  auto has = [&](const std::string& line) {
    return std::find(metrics.lines.begin(), metrics.lines.end(), line) != metrics.lines.end();
  };
  EXPECT_TRUE(has("plexus_hub_children" + node_label + " 1")) << metrics.lines.size() << " lines";
  EXPECT_TRUE(has("plexus_hub_local_children" + node_label + " 1"));
  EXPECT_TRUE(has("# TYPE plexus_processes gauge"));

  Ctl dead = ctl(a, {"process", "<0.4000000.1>"});
  EXPECT_EQ(dead.code, 1);
  EXPECT_NE(dead.err.find("no process <0.4000000.1>"), std::string::npos) << dead.err;
  Ctl other = ctl(a, {"process", "<3.1.1>"});
  EXPECT_EQ(other.code, 1);
  EXPECT_NE(other.err.find("another node"), std::string::npos) << other.err;
  EXPECT_EQ(ctl(a, {"process"}).code, 2);
  EXPECT_EQ(ctl(a, {"info", "extra"}).code, 2);
}

// top: the busiest processes of a node, by messages handled in the interval
// (a child that is called all through it) and by mailbox length.
TEST_F(HubProcessTest, PlexusctlTopShowsTheBusiestProcesses) {
  const std::string a = d("a").name();
  ASSERT_EQ(ctl(a, {"hub", "demo", "start", "busy", "--type", "counter"}).code, 0);
  Ctl lookup = ctl(a, {"hub", "demo", "lookup", "busy"});
  ASSERT_EQ(lookup.code, 0) << lookup.err;
  std::string where = field(lookup.lines[0], "node");
  std::string pid = field(lookup.lines[0], "pid");

  std::atomic<bool> done{false};
  Ctl top;
  std::thread reader([&] {
    top = ctl(where, {"top", "--by", "handled", "--count", "5", "--interval-ms", "2000"});
    done = true;
  });
  // Calls all through the interval, and on until top has answered.
  int calls = 0;
  while (!done) {
    Ctl call = ctl(a, {"hub", "demo", "call", "busy", "incr"});
    EXPECT_EQ(call.code, 0) << call.err;
    if (call.code != 0) break;
    ++calls;
  }
  reader.join();
  ASSERT_EQ(top.code, 0) << top.err;
  ASSERT_EQ(top.lines.size(), 5u);
  auto line_of = [](const Ctl& c, const std::string& p) -> std::string {
    for (const std::string& l : c.lines) {
      if (field(l, "pid") == p) return l;
    }
    return "";
  };
  std::string busy = line_of(top, pid);
  ASSERT_NE(busy, "") << "the called child is among the 5 busiest: " << top.lines[0];
  EXPECT_GE(std::stoi(field(busy, "handled")), 1);
  EXPECT_LE(std::stoi(field(busy, "handled")), calls);
  EXPECT_EQ(field(busy, "message_queue_len"), "0");
  EXPECT_NE(field(busy, "handled_per_s"), "");
  for (size_t i = 1; i < top.lines.size(); ++i) {
    EXPECT_GE(std::stoi(field(top.lines[i - 1], "handled")),
              std::stoi(field(top.lines[i], "handled")));
  }

  // By mailbox length, every process of the node: none waits with a backlog
  // here, and the control process is named.
  Ctl all = ctl(where, {"top", "--count", "100000", "--interval-ms", "10"});
  ASSERT_EQ(all.code, 0) << all.err;
  EXPECT_GT(all.lines.size(), 3u);
  EXPECT_NE(line_of(all, pid), "");
  bool control_named = std::any_of(all.lines.begin(), all.lines.end(), [](const std::string& l) {
    return field(l, "name") == "control";
  });
  EXPECT_TRUE(control_named);
  Ctl text = ctl(where, {"top", "--count", "1", "--interval-ms", "10"}, /*json=*/false);
  ASSERT_EQ(text.code, 0);
  EXPECT_TRUE(text.lines.at(0).starts_with("pid=<0.")) << text.lines[0];

  EXPECT_EQ(ctl(a, {"top", "--by", "size"}).code, 2);
  EXPECT_EQ(ctl(a, {"top", "--count", "0"}).code, 2);
  EXPECT_EQ(ctl(a, {"top", "--interval-ms", "40000"}).code, 2) << "longer than --timeout-ms";
}

TEST_F(HubProcessTest, AKilledNodesChildrenRunOnceOnTheSurvivors) {
  std::set<std::string> ids = start_many("k", 3000);
  ASSERT_FALSE(ids.empty());
  d("c").process().kill_and_wait();  // kill -9
  daemons_["c"].reset();
  ASSERT_TRUE(settled(2));
  EXPECT_EQ(converged(ids), "");
}

TEST_F(HubProcessTest, AStoppedNodeComesBackAndItsDuplicatesAreResolved) {
  std::set<std::string> ids = start_many("s", 600);
  ASSERT_FALSE(ids.empty());
  // SIGSTOP for longer than the tick timeout: the others see it down and
  // start its children; SIGCONT: it is back with copies of its own.
  pid_t c = d("c").process().pid();
  ASSERT_EQ(kill(c, SIGSTOP), 0);
  auto stopped = std::move(daemons_["c"]);
  ASSERT_TRUE(settled(2));
  ASSERT_EQ(converged(ids), "");
  ASSERT_EQ(kill(c, SIGCONT), 0);
  daemons_["c"] = std::move(stopped);
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "");
}

TEST_F(HubProcessTest, BothSidesOfABlockedPartitionRunAndTheHealLeavesOneOfEach) {
  std::set<std::string> ids = start_many("p", 300);
  ASSERT_FALSE(ids.empty());
  const std::string c = d("c").name();
  ASSERT_EQ(ctl(c, {"net", "block", d("a").name(), d("b").name()}).code, 0);
  // c alone runs all 300, and so do a and b.
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (ctl(c, {"hub", "demo", "list", "--local"}).lines.size() != 300 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(ctl(c, {"hub", "demo", "list", "--local"}).lines.size(), 300u);
  Ctl unblocked = ctl(c, {"net", "unblock"});
  ASSERT_EQ(unblocked.code, 0);
  EXPECT_EQ(unblocked.lines, std::vector<std::string>{"{\"blocked\":[]}"});
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "");
}

// a blocks c (a-b and b-c up): the groups are {a, b} and {c}, and they
// stay so while the block lasts; unblocked, one of each child is left.
TEST_F(HubProcessTest, ANonTransitivePartitionEndsInCleanGroups) {
  std::set<std::string> ids = start_many("t", 200);
  ASSERT_FALSE(ids.empty());
  const std::string a = d("a").name(), b = d("b").name(), c = d("c").name();
  ASSERT_EQ(ctl(a, {"net", "block", c}).code, 0);
  auto members = [&](const std::string& node) {
    Ctl s = ctl(node, {"hub", "demo", "status"});
    return s.code == 0 && s.lines.size() == 1 && field(s.lines[0], "locked") == "false"
               ? s.lines[0].substr(s.lines[0].find("\"nodes\""))
               : std::string("?");
  };
  auto clean = [&] {
    std::string ab = members(a);
    return ab.find(a) != std::string::npos && ab.find(b) != std::string::npos &&
           ab.find(c) == std::string::npos && members(b) == ab &&
           members(c).find(a) == std::string::npos && members(c).find(b) == std::string::npos &&
           members(c) != "?";
  };
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!clean() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(clean()) << members(a) << " | " << members(b) << " | " << members(c);
  // Each side runs every child once, and no node moves between the sides.
  EXPECT_EQ(ctl(c, {"hub", "demo", "list", "--local"}).lines.size(), 200u);
  for (int i = 0; i < 15; ++i) {
    ASSERT_TRUE(clean()) << "round " << i << ": " << members(a) << " | " << members(b) << " | "
                         << members(c);
  }
  ASSERT_EQ(ctl(a, {"net", "unblock"}).code, 0);
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "");
}

}  // namespace

namespace {

using namespace plexus_test;

// The majority quorum with real daemons: tick 1 s, partition cut 1 s, view
// debounce 50 ms, 500 ms to stop: the fence must outlast 250 + 1000 + 50 +
// 500 ms.
class HubQuorumProcessTest : public HubProcessTest {
 protected:
  static constexpr auto kFence = 3000ms;
  HubQuorumProcessTest() {
    hub_args_ = {"--hub-partition",
                 "majority_quorum",
                 "--hub-initial-cluster-size",
                 "3",
                 "--hub-fence-margin-ms",
                 std::to_string(kFence.count()),
                 "--hub-partition-stop-ms",
                 "500"};
  }
  bool partitioned(const std::string& base) {
    Ctl status = ctl(d(base).name(), {"hub", "demo", "status"});
    return status.code == 0 && !status.lines.empty() &&
           field(status.lines[0], "partitioned") == "true";
  }
  std::vector<std::string> local(const std::string& base) {
    std::vector<std::string> out;
    for (const std::string& l : ctl(d(base).name(), {"hub", "demo", "list", "--local"}).lines) {
      out.push_back(field(l, "id"));
    }
    return out;
  }
  // A child whose processes surely ran on two nodes at once: "" or which.
  // Reads every node's processes twice, in order; an id that x ran at both
  // its reads and y ran at a read in between overlapped there (a move,
  // which stops one copy before it starts the next, never looks so).
  std::string overlap(const std::vector<std::string>& bases) {
    std::vector<std::set<std::string>> first, second;
    for (auto* reads : {&first, &second}) {
      for (const std::string& base : bases) {
        std::vector<std::string> ids = local(base);
        reads->emplace_back(ids.begin(), ids.end());
      }
    }
    for (size_t x = 0; x < bases.size(); ++x) {
      for (size_t y = 0; y < bases.size(); ++y) {
        if (x == y) continue;
        // y's read between x's two: its first if it comes after x, else its second.
        const std::set<std::string>& between = y > x ? first[y] : second[y];
        for (const std::string& id : first[x]) {
          if (second[x].count(id) && between.count(id))
            return id + " ran on " + bases[x] + " and " + bases[y] + " at once";
        }
      }
    }
    return "";
  }
  // Waits until a and b run every one of `ids` once between them, checking
  // at each look that c runs none of them: how long it took, or -1.
  std::chrono::milliseconds until_majority_runs(const std::set<std::string>& ids,
                                                std::string* twice) {
    auto from = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - from < kWait) {
      std::map<std::string, int> runs;
      for (const char* n : {"a", "b"}) {
        for (const std::string& id : local(n)) ++runs[id];
      }
      if (daemons_["c"]) {
        for (const std::string& id : local("c")) ++runs[id];
      }
      for (const auto& [id, n] : runs) {
        if (n > 1 && twice->empty()) *twice = id + " runs " + std::to_string(n) + " times";
      }
      bool all = std::all_of(ids.begin(), ids.end(), [&](const std::string& id) {
        return runs.count(id) && runs[id] == 1;
      });
      if (all) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now() - from);
      }
      std::this_thread::sleep_for(50ms);
    }
    return -1ms;
  }
};

// c SIGSTOPped past failure detection (tick 1 s), and continued a second
// into the fence (3 s from the loss): a and b see it go, but start none of
// its children, since it may still run them; continued, it stops its stale
// copies at once (it finds itself cut off) and is back in their view before
// the fence lifts. At no time do two copies of a child run, and once quiet
// each runs once.
TEST_F(HubQuorumProcessTest, ASigstopShortOfTheFenceNeverRunsTwoCopies) {
  std::set<std::string> ids = start_many("f", 300);
  ASSERT_FALSE(ids.empty());
  std::vector<std::string> was_on_c = local("c");
  ASSERT_FALSE(was_on_c.empty());
  std::set<std::string> of_c(was_on_c.begin(), was_on_c.end());
  // "" or a child of c's that a or b runs.
  auto taken = [&]() -> std::string {
    for (const char* n : {"a", "b"}) {
      for (const std::string& id : local(n)) {
        if (of_c.count(id)) return std::string(n) + " runs " + id + " within the fence";
      }
    }
    return "";
  };
  pid_t c = d("c").process().pid();
  ASSERT_EQ(kill(c, SIGSTOP), 0);
  auto stopped = std::move(daemons_["c"]);
  auto paused = std::chrono::steady_clock::now();
  ASSERT_TRUE(settled(2)) << "a and b see c go";
  // The pause goes on for a second into the fence (the schedule, not a
  // wait for something), a and b watched all along.
  std::string early;
  for (auto hold = std::chrono::steady_clock::now() + 1s;
       early.empty() && std::chrono::steady_clock::now() < hold;) {
    early = taken();
  }
  ASSERT_LT(std::chrono::steady_clock::now() - paused, kFence - 500ms) << "too slow for the fence";
  ASSERT_EQ(kill(c, SIGCONT), 0);
  daemons_["c"] = std::move(stopped);
  std::string twice;
  for (auto until = std::chrono::steady_clock::now() + 2 * kFence;
       twice.empty() && std::chrono::steady_clock::now() < until;) {
    twice = overlap({"a", "b", "c"});
    if (early.empty()) early = taken();
  }
  EXPECT_EQ(early, "");
  EXPECT_EQ(twice, "");
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "");
}

// c is blocked from a and b: it stops its children and refuses starts, and
// a and b start them only after the fence; unblocked, one of each is left.
TEST_F(HubQuorumProcessTest, ABlockedMinorityStopsItsChildrenAndTheMajorityWaitsForTheFence) {
  std::set<std::string> ids = start_many("q", 300);
  ASSERT_FALSE(ids.empty());
  EXPECT_FALSE(partitioned("c"));
  ASSERT_FALSE(local("c").empty());
  const std::string c = d("c").name();
  ASSERT_EQ(ctl(c, {"net", "block", d("a").name(), d("b").name()}).code, 0);
  std::string twice;
  std::chrono::milliseconds took = until_majority_runs(ids, &twice);
  EXPECT_TRUE(twice.empty()) << twice;
  ASSERT_GE(took.count(), 0) << "a and b did not take over c's children";
  EXPECT_GE(took, kFence) << "started before the fence lifted";
  EXPECT_TRUE(partitioned("c"));
  EXPECT_TRUE(local("c").empty());
  EXPECT_FALSE(partitioned("a"));
  Ctl refused = ctl(c, {"hub", "demo", "start", "fresh", "--type", "counter"});
  EXPECT_NE(refused.code, 0);
  EXPECT_NE((refused.err + (refused.lines.empty() ? "" : refused.lines[0])).find("partitioned"),
            std::string::npos)
      << refused.err;
  ASSERT_EQ(ctl(c, {"net", "unblock"}).code, 0);
  ASSERT_TRUE(settled(3));
  EXPECT_EQ(converged(ids), "");
  EXPECT_FALSE(partitioned("c"));
  // A planned size, as plexusctl says it.
  Ctl resized = ctl(c, {"hub", "demo", "resize", "3"});
  ASSERT_EQ(resized.code, 0) << resized.err;
  EXPECT_EQ(field(resized.lines.at(0), "cluster_size"), "3");
  EXPECT_EQ(field(resized.lines.at(0), "node"), c);
  EXPECT_EQ(ctl(c, {"hub", "demo", "resize", "0"}).code, 2) << "usage";
  EXPECT_EQ(ctl(c, {"hub", "demo", "resize", "many"}).code, 2) << "usage";
}

// A scale-down under the majority quorum: c leaves (SIGTERM), which is no
// loss of quorum and is not fenced; then b, and a alone is partitioned
// until `hub demo resize 1` says one node is the cluster now.
TEST_F(HubQuorumProcessTest, AScaleDownToOneNodeNeedsResize) {
  std::set<std::string> ids = start_many("z", 300);
  ASSERT_FALSE(ids.empty());
  ASSERT_TRUE(terminate("c"));
  ASSERT_TRUE(settled(2));
  ASSERT_EQ(converged(ids), "");
  EXPECT_FALSE(partitioned("a"));
  ASSERT_TRUE(terminate("b"));
  auto deadline = std::chrono::steady_clock::now() + kWait;
  while (!(partitioned("a") && local("a").empty()) && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(partitioned("a")) << "one of three is no majority";
  EXPECT_TRUE(local("a").empty());
  Ctl resized = ctl(d("a").name(), {"hub", "demo", "resize", "1"});
  ASSERT_EQ(resized.code, 0) << resized.err;
  EXPECT_EQ(converged(ids), "");
  EXPECT_FALSE(partitioned("a"));
}

// kill -9 of c: a and b start its children once the fence has passed.
TEST_F(HubQuorumProcessTest, AKilledNodesChildrenStartAfterTheFence) {
  std::set<std::string> ids = start_many("k", 300);
  ASSERT_FALSE(ids.empty());
  d("c").process().kill_and_wait();
  daemons_["c"].reset();
  std::string twice;
  std::chrono::milliseconds took = until_majority_runs(ids, &twice);
  EXPECT_TRUE(twice.empty()) << twice;
  EXPECT_GE(took, kFence);
  ASSERT_TRUE(settled(2));
  EXPECT_EQ(converged(ids), "");
}

// Five daemons that sync by gossip with a fanout of 2, whose anti-entropy
// is an hour away, so a change reaches each member by its tree or not at
// all; their failure detection takes 30 s.
class HubGossipProcessTest : public HubProcessTest {
 protected:
  HubGossipProcessTest() {
    hub_args_ = {"--hub-sync",          "gossip", "--hub-gossip-fanout", "2",
                 "--hub-gossip-ack-ms", "300",    "--hub-sync-ms",       "3600000"};
    tick_timeout_ = 30s;
  }
  void SetUp() override {
    HubProcessTest::SetUp();
    if (IsSkipped()) return;
    start("d");
    start("e");
    ASSERT_TRUE(settled(5));
  }
  double resends() {
    double total = 0;
    for (const std::string& n : live()) {
      for (const std::string& l : ctl(d(n).name(), {"metrics"}, /*json=*/false).lines) {
        if (l.starts_with("plexus_hub_gossip_resends_total{"))
          total += std::stod(l.substr(l.rfind(' ')));
      }
    }
    return total;
  }
};

// A SIGSTOPped member that heads a part of a change's tree takes it and
// passes nothing on: the part goes to its next member once the
// acknowledgement is late, long before the stalled node is seen down.
TEST_F(HubGossipProcessTest, AStalledMemberDoesNotHoldUpThePartItHeads) {
  pid_t e = d("e").process().pid();
  ASSERT_EQ(kill(e, SIGSTOP), 0);
  auto stopped = std::move(daemons_["e"]);
  // One start (one change) at a time; those the stalled node decides or
  // runs fail (node_receive_timeout), the others are committed.
  std::vector<std::string> started;
  for (int i = 0; i < 24; ++i) {
    std::string id = "g" + std::to_string(i);
    Ctl s = ctl(d("a").name(),
                {"--timeout-ms", "1000", "hub", "demo", "start", id, "--type", "counter"});
    if (s.code == 0) started.push_back(id);
  }
  ASSERT_GE(started.size(), 10u);
  // Every other member has each of them, well within the 30 s detection.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  std::string missing;
  do {
    missing.clear();
    for (const std::string& n : live()) {
      std::set<std::string> has;
      for (const std::string& l : ctl(d(n).name(), {"hub", "demo", "list"}).lines) {
        has.insert(field(l, "id"));
      }
      for (const std::string& id : started) {
        if (!has.count(id)) missing += n + ":" + id + " ";
      }
    }
  } while (!missing.empty() && std::chrono::steady_clock::now() < deadline);
  EXPECT_EQ(missing, "");
  EXPECT_GT(resends(), 0) << "some change had the stalled node head a part";
  ASSERT_EQ(kill(e, SIGCONT), 0);
  daemons_["e"] = std::move(stopped);
  ASSERT_TRUE(settled(5));
}

}  // namespace

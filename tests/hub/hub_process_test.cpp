// The hub with real OS processes: plexus-node daemons on 127.0.0.1 hosting a
// hub, driven with plexusctl exactly as an operator would, through kill -9,
// SIGSTOP and partitions made with `plexusctl net block`. Checks plexusctl's
// contract (its lines, its exit codes) and the hub's guarantees: once quiet,
// every child runs exactly once and every registry agrees. Divergence here,
// with one copy or two (replication) and with gossip; hot swap and the
// majority quorum have files of their own (hub_hot_swap_process_test.cpp,
// hub_quorum_process_test.cpp), longer schedules hub_fault_schedules_test.cpp.
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
  while (local("c").size() != 300 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_EQ(local("c").size(), 300u);
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
  EXPECT_EQ(local("c").size(), 200u);
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

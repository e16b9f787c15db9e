// The loopback network (plexus/node/loopback.h): nodes in one process that go
// through the whole transport (handshake, frames, ticks, gossip, links and
// monitors across nodes) without sockets, stepped, in virtual time, the same
// way every run.
#include "plexus/node/loopback.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "node_test_support.h"
#include "plexus/node/node.h"

namespace {

using namespace plexus_test;
using plexus::LoopbackNetwork;
using plexus::SpawnOptions;
using plexus::Status;

class LoopbackTest : public ::testing::Test {
 protected:
  NodeOptions options(const std::string& base, std::vector<std::string> seeds = {}) {
    NodeOptions o;
    o.name = base + "@loop:0";
    o.cookie = kCookie;
    o.seeds = std::move(seeds);
    o.loopback = &net_;
    o.runtime = runtime_options(Sched::kDeterministic, &logs_);
    return o;
  }
  std::unique_ptr<Node> start(const std::string& base, std::vector<std::string> seeds = {}) {
    return start_node(options(base, std::move(seeds)));
  }
  // A pid of `from`, as `to` names it.
  static Pid pid_on(Node& to, Node& from, Pid pid) {
    plexus::PidProto proto;
    from.to_proto(pid, &proto);
    return *to.from_proto(proto);
  }

  LogCapture logs_;
  LoopbackNetwork net_;  // declared after what logs into it, before the nodes
};

// Replies Counter{seq + 1} to every Counter's reply_to, as "echo".
Task<> echo(Context self) {
  (void)self.register_name("echo");
  for (;;) {
    auto c = co_await self.receive<plexus_test::Counter>();
    Node* node = Node::of(self);
    Pid to = *node->from_proto(c.reply_to());
    plexus_test::Counter reply;
    reply.set_seq(c.seq() + 1);
    (void)self.send(to, reply);
  }
}

TEST_F(LoopbackTest, AMessageAndItsReplyCrossWithoutTimePassing) {
  auto a = start("a");
  auto b = start("b");
  b->runtime().spawn(echo);
  int64_t answer = 0;
  a->runtime().spawn([&](Context self) -> Task<> {
    plexus_test::Counter c;
    c.set_seq(41);
    Node::of(self)->to_proto(self.self(), c.mutable_reply_to());
    EXPECT_TRUE(Node::of(self)->send(b->name(), "echo", c).ok());
    auto reply = co_await self.receive<plexus_test::Counter>();
    answer = reply.seq();
  });
  ASSERT_TRUE(net_.run_until([&] { return answer != 0; }, 10s));
  EXPECT_EQ(answer, 42);
  EXPECT_EQ(net_.now_ms(), 0) << "a connect, a handshake and two frames take no virtual time";
  EXPECT_EQ(a->nodes(), std::vector<std::string>{b->name()});
  EXPECT_EQ(b->nodes(), std::vector<std::string>{a->name()});
  EXPECT_GE(a->stats(b->name()).frames_out, 1u);
}

TEST_F(LoopbackTest, ACutFiresMonitorsWithNoconnectionAndRefusesUntilHealed) {
  auto a = start("a");
  auto b = start("b");
  Pid target = b->runtime().spawn([](Context self) -> Task<> { co_await self.receive<int>(); });
  Pid remote = pid_on(*a, *b, target);
  std::optional<ExitReason> reason;
  a->runtime().spawn([&](Context self) -> Task<> {
    Ref ref = self.monitor(remote);
    Down d = co_await self.receive<Down>();
    EXPECT_EQ(d.ref, ref);
    reason = d.reason;
  });
  net_.run_until_idle();
  ASSERT_EQ(a->nodes(), std::vector<std::string>{b->name()});
  EXPECT_FALSE(reason) << "the monitor fired while the target runs";

  net_.cut(a->name(), b->name());
  ASSERT_TRUE(net_.run_until([&] { return reason.has_value(); }, 10s));
  EXPECT_EQ(*reason, ExitReason::noconnection());
  EXPECT_TRUE(a->nodes().empty());
  EXPECT_TRUE(b->nodes().empty());
  EXPECT_GT(logs_.count(LogLevel::kInfo, {"connection cut by the network"}), 0u) << logs_.dump();

  Status refused = a->connect(b->name());
  EXPECT_EQ(refused.code(), StatusCode::kUnavailable) << refused;
  EXPECT_NE(refused.message().find("connection refused"), std::string::npos) << refused;

  net_.heal(a->name(), b->name());
  EXPECT_TRUE(a->connect(b->name()).ok());
  EXPECT_EQ(a->nodes(), std::vector<std::string>{b->name()});
  EXPECT_TRUE(b->runtime().alive(target)) << "a cut ends no process";
}

TEST_F(LoopbackTest, ALinkedRemoteSpawnBringsTheChildsExitBack) {
  auto a = start("a");
  auto b = start("b");
  Status registered = b->register_process<plexus_test::SpawnArgs>(
      "exiter", [](Context self, plexus_test::SpawnArgs args) -> Task<> {
        co_await self.receive<int>(std::chrono::milliseconds(args.value()));
        self.exit(ExitReason::error(args.label()));
      });
  ASSERT_TRUE(registered.ok()) << registered;
  std::optional<Exit> exit;
  Pid child;
  a->runtime().spawn([&](Context self) -> Task<> {
    self.trap_exit(true);
    plexus_test::SpawnArgs args;
    args.set_label("bye");
    args.set_value(500);
    auto pid =
        co_await Node::of(self)->spawn(self, b->name(), "exiter", args, SpawnOptions{.link = true});
    EXPECT_TRUE(pid.ok()) << pid.status();
    if (!pid.ok()) co_return;
    child = *pid;
    exit = co_await self.receive<Exit>();
  });
  ASSERT_TRUE(net_.run_until([&] { return exit.has_value(); }, 10s));
  EXPECT_EQ(exit->from, child);
  EXPECT_EQ(exit->reason, ExitReason::error("bye"));
  EXPECT_EQ(net_.now_ms(), 500) << "the child's timeout ran on the network's virtual clock";
}

TEST_F(LoopbackTest, TicksKeepAnIdleConnectionUpAsVirtualTimePasses) {
  auto a = start("a");
  auto b = start("b");
  ASSERT_TRUE(a->connect(b->name()).ok());
  net_.advance(10min);
  EXPECT_EQ(a->nodes(), std::vector<std::string>{b->name()});
  EXPECT_EQ(net_.now_ms(), 600'000);
  // A tick or a gossip frame every tick_timeout / 4 (15 s) each way.
  EXPECT_GE(a->stats(b->name()).frames_in, 600u / 15u - 1);
  EXPECT_GE(b->stats(a->name()).frames_in, 600u / 15u - 1);
}

TEST_F(LoopbackTest, SeedsAndGossipMakeAFullMesh) {
  auto a = start("a");
  auto b = start("b", {a->name()});
  auto c = start("c", {b->name()});
  ASSERT_TRUE(net_.run_until(
      [&] { return a->nodes().size() == 2 && b->nodes().size() == 2 && c->nodes().size() == 2; },
      10s));
}

TEST_F(LoopbackTest, ANodeThatStopsIsSeenDownByItsSubscribers) {
  auto a = start("a");
  auto b = start("b", {a->name()});
  std::vector<std::string> events;
  Pid watcher = a->runtime().spawn([&](Context self) -> Task<> {
    for (;;) {
      co_await self.receive([&](plexus::NodeUp& up) { events.push_back("up " + up.node); },
                            [&](plexus::NodeDown& down) { events.push_back("down " + down.node); });
    }
  });
  a->subscribe(watcher);
  ASSERT_TRUE(net_.run_until([&] { return events.size() == 1; }, 10s));
  std::string b_name = b->name();
  b.reset();
  ASSERT_TRUE(net_.run_until([&] { return events.size() == 2; }, 10s));
  EXPECT_EQ(events, (std::vector<std::string>{"up " + b_name, "down " + b_name}));
  EXPECT_TRUE(a->nodes().empty());
}

// Three nodes, a cut and a heal; what each node's subscriber saw, and when.
std::vector<std::string> scripted_run() {
  LogCapture logs;
  LoopbackNetwork net;
  auto options = [&](const std::string& base, std::vector<std::string> seeds) {
    NodeOptions o;
    o.name = base + "@loop:0";
    o.cookie = kCookie;
    o.seeds = std::move(seeds);
    o.loopback = &net;
    o.tick_timeout = 1000ms;
    o.runtime = runtime_options(Sched::kDeterministic, &logs);
    return o;
  };
  std::vector<std::string> trace;
  std::vector<std::unique_ptr<Node>> nodes;
  for (const char* base : {"a", "b", "c"}) {
    std::vector<std::string> seeds;
    if (!nodes.empty()) seeds.push_back(nodes.back()->name());
    nodes.push_back(start_node(options(base, seeds)));
    Node& node = *nodes.back();
    Pid watcher = node.runtime().spawn([&trace, &net, name = node.name()](Context self) -> Task<> {
      auto at = [&] { return " at " + std::to_string(net.now_ms()) + ": "; };
      for (;;) {
        co_await self.receive(
            [&](plexus::NodeUp& up) { trace.push_back(name + at() + "up " + up.node); },
            [&](plexus::NodeDown& down) { trace.push_back(name + at() + "down " + down.node); });
      }
    });
    node.subscribe(watcher);
    net.advance(100ms);
  }
  net.advance(1s);
  net.cut(nodes[0]->name(), nodes[2]->name());
  net.advance(3s);
  net.heal(nodes[0]->name(), nodes[2]->name());
  net.advance(5s);
  trace.push_back("final: " + std::to_string(nodes[0]->nodes().size()) + " " +
                  std::to_string(nodes[1]->nodes().size()) + " " +
                  std::to_string(nodes[2]->nodes().size()));
  std::vector<std::string> seen = trace;  // not what the stopping nodes see
  nodes.clear();
  return seen;
}

TEST_F(LoopbackTest, TheSameScriptGivesTheSameRun) {
  std::vector<std::string> first = scripted_run();
  std::vector<std::string> second = scripted_run();
  EXPECT_EQ(first, second);
  // The mesh formed, the cut took a-c down (both ways) and gossip healed it.
  ASSERT_FALSE(first.empty());
  EXPECT_EQ(first.back(), "final: 2 2 2");
  int downs = 0;
  for (const std::string& line : first) downs += line.find(": down ") != std::string::npos;
  EXPECT_EQ(downs, 2) << ::testing::PrintToString(first);
}

TEST_F(LoopbackTest, OptionsThatDoNotFitAreRefused) {
  NodeOptions threaded = options("t");
  threaded.runtime.deterministic = false;
  auto refused = Node::start(threaded);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("deterministic"), std::string::npos);

  NodeOptions tls = options("s");
  tls.tls = plexus::TlsOptions{"ca.pem", "cert.pem", "key.pem"};
  auto no_tls = Node::start(tls);
  ASSERT_FALSE(no_tls.ok());
  EXPECT_NE(no_tls.status().message().find("TLS"), std::string::npos);

  auto a = start("a");
  NodeOptions same = options("a");
  same.name = a->name();
  auto taken = Node::start(same);
  ASSERT_FALSE(taken.ok());
  EXPECT_NE(taken.status().message().find("in use"), std::string::npos) << taken.status();

  NodeOptions tcp;
  tcp.name = "d@127.0.0.1:0";
  tcp.cookie = kCookie;
  tcp.runtime.deterministic = true;
  auto no_tcp = Node::start(tcp);
  ASSERT_FALSE(no_tcp.ok());
  EXPECT_NE(no_tcp.status().message().find("threaded"), std::string::npos);
}

}  // namespace

namespace {

// A hidden node (plexusctl's kind) talks to the node it dials, and to no one
// else: no one lists it, gossips it or tells a subscriber of it.
TEST_F(LoopbackTest, AHiddenNodeIsConnectedButNeverListedGossipedOrAnnounced) {
  auto a = start("a");
  auto b = start("b", {a->name()});
  ASSERT_TRUE(net_.run_until([&] { return a->nodes().size() == 1; }, 5s));
  std::vector<std::string> seen;
  Pid watcher = a->runtime().spawn([&](Context self) -> Task<> {
    for (;;) {
      auto up = co_await self.receive<NodeUp>();
      seen.push_back(up.node);
    }
  });
  a->subscribe(watcher);
  NodeOptions o = options("ctl");
  o.hidden = true;
  auto ctl = start_node(o);
  EXPECT_TRUE(ctl->hidden());
  ASSERT_TRUE(ctl->connect(a->name()).ok());
  b->runtime().spawn(echo);
  int64_t answer = 0;
  // It can still reach a node it was not told of, by dialling it itself.
  ctl->runtime().spawn([&](Context self) -> Task<> {
    plexus_test::Counter c;
    c.set_seq(1);
    Node::of(self)->to_proto(self.self(), c.mutable_reply_to());
    EXPECT_TRUE(Node::of(self)->send(b->name(), "echo", c).ok());
    answer = (co_await self.receive<plexus_test::Counter>()).seq();
  });
  ASSERT_TRUE(net_.run_until([&] { return answer != 0; }, 5s));
  net_.advance(60s);  // ticks and gossip rounds
  EXPECT_EQ(a->nodes(), std::vector<std::string>{b->name()});
  EXPECT_EQ(a->hidden_nodes(), std::vector<std::string>{ctl->name()});
  EXPECT_EQ(b->hidden_nodes(), std::vector<std::string>{ctl->name()});
  EXPECT_TRUE(ctl->nodes().size() == 2) << "a hidden node lists what it dialled";
  EXPECT_TRUE(seen.empty()) << "no NodeUp for a hidden node";
  EXPECT_FALSE(a->hidden());
}

}  // namespace

namespace {

// Node::block is a partition one node makes: the connection drops, neither
// side can make a new one, until the node unblocks.
TEST_F(LoopbackTest, ABlockedPeerIsDroppedAndRefusedBothWaysUntilUnblocked) {
  auto a = start("a");
  auto b = start("b", {a->name()});
  ASSERT_TRUE(net_.run_until([&] { return a->nodes().size() == 1; }, 5s));
  a->block({b->name()});
  ASSERT_TRUE(net_.run_until([&] { return a->nodes().empty() && b->nodes().empty(); }, 5s));
  EXPECT_EQ(a->blocked(), std::vector<std::string>{b->name()});
  EXPECT_FALSE(b->connect(a->name()).ok());
  EXPECT_FALSE(a->connect(b->name()).ok());
  EXPECT_TRUE(a->nodes().empty());
  a->unblock();
  EXPECT_TRUE(a->blocked().empty());
  EXPECT_TRUE(b->connect(a->name()).ok());
  EXPECT_EQ(a->nodes(), std::vector<std::string>{b->name()});
  EXPECT_EQ(a->creation_of(b->name()), b->creation());
  EXPECT_EQ(a->creation_of("nobody@loop:9"), 0u);
}

// Keeps the seq of every Counter it receives, as "sink".
Task<> sink(Context self, std::vector<int64_t>* got) {
  (void)self.register_name("sink");
  for (;;) got->push_back((co_await self.receive<plexus_test::Counter>()).seq());
}

// Sends Counter{from}..Counter{to - 1} to "sink" on `node`, in order.
Task<> numbered(Context self, std::string node, int64_t from, int64_t to) {
  for (int64_t i = from; i < to; ++i) {
    plexus_test::Counter c;
    c.set_seq(i);
    EXPECT_TRUE(Node::of(self)->send(node, "sink", c).ok());
  }
  co_return;
}

// Two connected nodes on a network that delays each write by up to 20 ms:
// b runs "sink" into got_, and a has sent it 0..49, some still in flight.
class LoopbackOrderTest : public LoopbackTest {
 protected:
  void SetUp() override {
    plexus::LoopbackFaults faults;
    faults.max_delay = 20ms;
    net_.set_faults(faults);
    a_ = start("a");
    b_ = start("b");
    b_->runtime().spawn(sink, &got_);
    ASSERT_TRUE(a_->connect(b_->name()).ok());
    a_->runtime().spawn(numbered, b_->name(), 0, 50);
    net_.run_until_idle();  // written, and in flight (delayed)
    ASSERT_LT(got_.size(), 50u) << "some writes are still in flight";
  }
  // got_ is 0..last-1, in order, each once.
  void expect_in_order(int64_t last) {
    ASSERT_EQ(got_.size(), static_cast<size_t>(last));
    for (int64_t i = 0; i < last; ++i) ASSERT_EQ(got_[static_cast<size_t>(i)], i);
  }

  std::vector<int64_t> got_;
  std::unique_ptr<Node> a_, b_;
};

// A down listener hears of a lost incarnation, with its Pid::node, before
// any subscriber takes the NodeDown; removed, it hears of nothing more.
TEST_F(LoopbackTest, ADownListenerHearsOfTheLossFirstUntilRemoved) {
  auto a = start("a");
  auto b = start("b");
  ASSERT_TRUE(a->connect(b->name()).ok());
  Pid on_b = pid_on(
      *a, *b, b->runtime().spawn([](Context self) -> Task<> { co_await self.receive<int>(); }));
  bool told = false;
  a->runtime().spawn([&](Context self) -> Task<> {
    Node::of(self)->subscribe(self.self());
    co_await self.receive<NodeDown>();
    told = true;
  });
  net_.run_until_idle();
  std::vector<std::pair<uint32_t, bool>> heard;  // (node, told already)
  uint64_t id = a->add_down_listener([&](uint32_t node) { heard.emplace_back(node, told); });
  net_.cut(a->name(), b->name());
  ASSERT_TRUE(net_.run_until([&] { return told; }, 5s));
  ASSERT_EQ(heard.size(), 1u);
  EXPECT_EQ(heard[0].first, on_b.node);
  EXPECT_FALSE(heard[0].second) << "the listener ran after a subscriber took the NodeDown";
  a->remove_down_listener(id);
  net_.heal(a->name(), b->name());
  ASSERT_TRUE(a->connect(b->name()).ok());
  a->disconnect(b->name());
  net_.run_until_idle();
  EXPECT_EQ(heard.size(), 1u) << "a removed listener was called";
}

// One-way loss: a's writes to b are held, b's reach a. b hears nothing from
// a, so its tick timeout closes the connection; while the mute lasts no new
// connection completes its handshake, from either side.
TEST_F(LoopbackTest, AMutedDirectionIsSilentUntilTheTickTimeoutEndsTheConnection) {
  NodeOptions oa = options("a"), ob = options("b");
  oa.tick_timeout = ob.tick_timeout = 4s;
  auto a = start_node(oa);
  auto b = start_node(ob);
  std::vector<int64_t> at_a, at_b;
  a->runtime().spawn(sink, &at_a);
  b->runtime().spawn(sink, &at_b);
  ASSERT_TRUE(a->connect(b->name()).ok());
  net_.mute(a->name(), b->name());
  a->runtime().spawn(numbered, b->name(), 0, 3);
  b->runtime().spawn(numbered, a->name(), 0, 3);
  net_.advance(1s);
  EXPECT_TRUE(at_b.empty()) << "a's messages are held";
  EXPECT_EQ(at_a, (std::vector<int64_t>{0, 1, 2})) << "b's get through";
  EXPECT_EQ(a->nodes(), std::vector<std::string>{b->name()}) << "the connection is still up";
  ASSERT_TRUE(net_.run_until([&] { return a->nodes().empty() && b->nodes().empty(); }, 10s));
  EXPECT_GT(logs_.count(LogLevel::kInfo, {"tick timeout"}), 0u) << logs_.dump();
  EXPECT_GE(net_.now_ms(), 4000);
  EXPECT_FALSE(a->connect(b->name()).ok());
  EXPECT_FALSE(b->connect(a->name()).ok());
  EXPECT_TRUE(at_b.empty()) << "what a held went down with its connection";
  net_.unmute(a->name(), b->name());
  net_.run_until_idle();
  EXPECT_TRUE(at_b.empty()) << "a closed connection's held writes are dropped";
  EXPECT_TRUE(a->connect(b->name()).ok());
  EXPECT_EQ(b->nodes(), std::vector<std::string>{a->name()});
}

// b crashes while its writes to a are held, so its close never reaches a:
// a learns of it from the reset its next write meets once the loss ends,
// long before its tick timeout.
TEST_F(LoopbackTest, ACrashBehindAOneWayLossIsSeenAtTheFirstWriteAfterIt) {
  auto a = start("a");
  auto b = start("b");
  ASSERT_TRUE(a->connect(b->name()).ok());
  const std::string b_name = b->name();
  net_.mute(b_name, a->name());
  b.reset();
  net_.advance(20s);
  EXPECT_EQ(a->nodes(), std::vector<std::string>{b_name}) << "a heard nothing of the crash";
  net_.unmute(b_name, a->name());
  a->runtime().spawn(numbered, b_name, 0, 1);
  ASSERT_TRUE(net_.run_until([&] { return a->nodes().empty(); }, 1s));
  EXPECT_GT(logs_.count(LogLevel::kInfo, {"connection reset by peer"}), 0u) << logs_.dump();
}

// A mute shorter than the tick timeout is a stall: unmuted, what was held
// arrives after what was in flight before it, in order, none lost.
TEST_F(LoopbackOrderTest, AnUnmuteDeliversWhatWasHeldInOrder) {
  net_.mute(a_->name(), b_->name());
  a_->runtime().spawn(numbered, b_->name(), 50, 100);
  net_.run_until_idle();
  EXPECT_LT(got_.size(), 50u) << "nothing held arrived";
  net_.unmute(a_->name(), b_->name());
  a_->runtime().spawn(numbered, b_->name(), 100, 150);
  ASSERT_TRUE(net_.run_until([&] { return got_.size() == 150; }, 10s)) << got_.size();
  net_.advance(10s);
  expect_in_order(150);  // and nothing twice
}

}  // namespace

namespace {

// Faults that change while delayed writes are on their way keep each
// direction in order: what is written after the delays end waits behind
// what was written before, as TCP keeps a stream in order whatever its
// round-trip time does.
TEST_F(LoopbackOrderTest, WritesAfterTheDelaysEndArriveBehindTheDelayedOnes) {
  net_.set_faults({});
  a_->runtime().spawn(numbered, b_->name(), 50, 100);
  ASSERT_TRUE(net_.run_until([&] { return got_.size() == 100; }, 10s)) << got_.size();
  expect_in_order(100);
}

// A node that writes and then stops: its close reaches the peer after what
// it wrote, delayed or not (a stream's end comes after its data).
TEST_F(LoopbackOrderTest, AStoppedNodesLastWritesArriveBeforeItsClose) {
  a_.reset();
  ASSERT_TRUE(net_.run_until([&] { return b_->nodes().empty(); }, 10s));
  net_.run_until_idle();
  expect_in_order(50);
}

}  // namespace

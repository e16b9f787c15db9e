// Nodes in one OS process, each with its own port: remote send, call, link,
// monitor, exit, spawn, membership and node events over real TCP.
#include <gtest/gtest.h>

#include "node_test_support.h"
#include "plexus/node/exit_reason_proto.h"

namespace plexus_test {
namespace {

using plexus::PidProto;
using plexus::SpawnOptions;
using plexus::SpawnReply;
using plexus_test::Counter;
using plexus_test::SpawnArgs;
using plexus_test::Text;

// Waits for a Text and exits with its text as an error reason ("normal" exits normally).
Task<> exit_on_text(Context self) {
  Text t = co_await self.receive<Text>();
  if (t.text() == "normal") co_return;
  if (t.text() == "throw") throw std::runtime_error("asked to throw");
  self.exit(ExitReason::error(t.text()));
}

// `{badmatch,[1,2.5,<<"x">>,#{k => {v}}]}`: a reason with every kind of term.
plexus::Term badmatch_term() {
  using plexus::Term;
  return Term::tuple(
      {Term::atom("badmatch"),
       Term::list({Term::integer(1), Term::floating(2.5), Term::binary("x"),
                   Term::map({{Term::atom("k"), Term::tuple({Term::atom("v")})}})})});
}

// A list `depth` deep.
plexus::Term deep_term(int depth) {
  plexus::Term t = plexus::Term::atom("core");
  for (int d = 1; d < depth; ++d) t = plexus::Term::list({t});
  return t;
}

// Waits for a Text and exits with a term: badmatch_term(), or one too deep
// to send for "deep".
Task<> exit_with_term(Context self) {
  Text t = co_await self.receive<Text>();
  if (t.text() == "deep") self.exit(ExitReason::error(deep_term(plexus::kMaxTermDepth + 1)));
  self.exit(ExitReason::error(badmatch_term()));
}

class NodeTest : public TwoNodeTest {
 protected:
  // A process running `body` on node b, as node a sees it.
  Pid remote_spawn_on_b(Task<> (*body)(Context)) { return seen_from_a(b_->runtime().spawn(body)); }
};

TEST_F(NodeTest, ConnectedNodesListEachOther) {
  EXPECT_TRUE(wait_for_nodes(*a_, {b_->name()}));
  EXPECT_TRUE(wait_for_nodes(*b_, {a_->name()}));
  EXPECT_NE(a_->creation(), b_->creation());
  EXPECT_TRUE(a_->connect(b_->name()).ok()) << "connecting twice is fine";
}

TEST_F(NodeTest, RemotePidsPrintTheirNodeAndNameIt) {
  Pid pid = remote_spawn_on_b(exit_on_text);
  EXPECT_NE(pid.node, 0u);
  // The node's slot in this node's table (the low 16 bits of Pid::node).
  EXPECT_EQ(pid.to_string(), "<" + std::to_string(pid.node & 0xFFFF) + "." +
                                 std::to_string(pid.index) + "." + std::to_string(pid.serial - 1) +
                                 ">");
  EXPECT_EQ(a_->node_name(pid), b_->name());
  EXPECT_EQ(a_->node_name(Pid{0, 1, 1}), a_->name());
}

TEST_F(NodeTest, SendCrossesBothWaysAndKeepsTheTypedValue) {
  Inbox in_a(a_->runtime());
  Inbox in_b(b_->runtime());
  PidProto pa, pb;
  a_->to_proto(in_a.pid(), &pa);
  b_->to_proto(in_b.pid(), &pb);
  Pid b_from_a = *a_->from_proto(pb);
  Pid a_from_b = *b_->from_proto(pa);

  EXPECT_TRUE(a_->runtime().send(b_from_a, text("hello b")).ok());
  EXPECT_EQ(must_receive<Text>(in_b).text(), "hello b");
  EXPECT_TRUE(b_->runtime().send(a_from_b, text("hello a")).ok());
  EXPECT_EQ(must_receive<Text>(in_a).text(), "hello a");
}

TEST_F(NodeTest, APidInsideAMessageComesBackAsTheSamePid) {
  Inbox in_a(a_->runtime());
  Inbox in_b(b_->runtime());
  PidProto pb;
  b_->to_proto(in_b.pid(), &pb);
  Counter c;
  c.set_seq(7);
  a_->to_proto(in_a.pid(), c.mutable_reply_to());
  ASSERT_TRUE(a_->runtime().send(*a_->from_proto(pb), c).ok());
  Counter got = must_receive<Counter>(in_b);
  Pid reply_to = *b_->from_proto(got.reply_to());
  ASSERT_TRUE(b_->runtime().send(reply_to, text("back")).ok());
  EXPECT_EQ(must_receive<Text>(in_a).text(), "back");
}

TEST_F(NodeTest, SendingANonProtobufValueToARemotePidIsAnErrorAtTheCallSite) {
  Pid pid = remote_spawn_on_b(exit_on_text);
  struct Plain {
    int x;
  };
  plexus::Status status = a_->runtime().send(pid, Plain{1});
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("only protobuf messages cross nodes"), std::string::npos)
      << status;
  // The node still serves: a protobuf message goes through.
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor(pid);
  ASSERT_TRUE(a_->runtime().send(pid, text("normal")).ok());
  EXPECT_EQ(must_receive_down(watcher, ref).reason, ExitReason::normal());
}

TEST_F(NodeTest, SendToARegisteredNameOnANode) {
  Inbox in_b(b_->runtime());
  ASSERT_TRUE(b_->runtime().register_name("greeter", in_b.pid()).ok());
  EXPECT_TRUE(a_->send(b_->name(), "greeter", text("by name")).ok());
  EXPECT_EQ(must_receive<Text>(in_b).text(), "by name");
  // An unregistered name drops the message, as in Erlang.
  EXPECT_TRUE(a_->send(b_->name(), "nobody", text("lost")).ok());
  EXPECT_TRUE(nothing_of_type<Text>(in_b));
}

TEST_F(NodeTest, EveryProtobufTypeArrivesAsItsOwnType) {
  Inbox in_b(b_->runtime());
  PidProto pb;
  b_->to_proto(in_b.pid(), &pb);
  SpawnArgs args;
  args.set_label("x");
  args.set_value(42);
  ASSERT_TRUE(a_->runtime().send(*a_->from_proto(pb), args).ok());
  SpawnArgs got = must_receive<SpawnArgs>(in_b);
  EXPECT_EQ(got.label(), "x");
  EXPECT_EQ(got.value(), 42);
}

class Greeter : public plexus::Server {
 protected:
  void handle_call(Message& request, const plexus::From& from) override {
    if (Text* t = request.get_if<Text>()) (void)reply(from, text("hello " + t->text()));
  }
};

TEST_F(NodeTest, CallAndReplyAcrossNodes) {
  Pid server_b = b_->runtime().spawn_server<Greeter>();
  PidProto proto;
  b_->to_proto(server_b, &proto);
  Pid server = *a_->from_proto(proto);
  Inbox caller(a_->runtime());
  auto reply = caller.call<Text>(server, text("a"));
  ASSERT_TRUE(reply.ok()) << reply.status();
  EXPECT_EQ(reply->text(), "hello a");
  // A call to a remote process that does not exist fails with noproc.
  Inbox on_b(b_->runtime());
  Ref gone = on_b.context().monitor(server_b);
  b_->runtime().exit(server_b, ExitReason::kill());
  must_receive_down(on_b, gone);
  auto failed = caller.call<Text>(server, text("a"));
  EXPECT_EQ(failed.status().code(), StatusCode::kNoProc);
}

TEST_F(NodeTest, RemoteLinkAbnormalExitKillsANonTrappingProcess) {
  Pid target = remote_spawn_on_b(exit_on_text);
  Inbox watcher(a_->runtime());
  Pid linked = a_->runtime().spawn([target, w = watcher.pid()](Context self) -> Task<> {
    (void)self.link(target);
    (void)self.send(w, text("linked"));
    co_await self.receive([](Text&) {});
  });
  Ref ref = watcher.context().monitor(linked);
  // The link signal was queued for b before "linked" was sent, so the Text
  // below travels behind it on the one connection.
  EXPECT_EQ(must_receive<Text>(watcher).text(), "linked");
  ASSERT_TRUE(a_->runtime().send(target, text("boom")).ok());
  Down down = must_receive_down(watcher, ref);
  EXPECT_EQ(down.reason, ExitReason::error("boom"));
}

TEST_F(NodeTest, RemoteLinkNormalExitDoesNotKillAndTrappingGetsExit) {
  Pid quiet = remote_spawn_on_b(exit_on_text);
  Pid loud = remote_spawn_on_b(exit_on_text);
  Inbox trapper(a_->runtime());
  trapper.context().trap_exit(true);
  ASSERT_TRUE(trapper.context().link(quiet).ok());
  ASSERT_TRUE(trapper.context().link(loud).ok());
  ASSERT_TRUE(a_->runtime().send(quiet, text("normal")).ok());
  Exit e1 = must_receive<Exit>(trapper);
  EXPECT_EQ(e1.from, quiet);
  EXPECT_EQ(e1.reason, ExitReason::normal());
  ASSERT_TRUE(a_->runtime().send(loud, text("bad")).ok());
  Exit e2 = must_receive<Exit>(trapper);
  EXPECT_EQ(e2.from, loud);
  EXPECT_EQ(e2.reason, ExitReason::error("bad"));
  EXPECT_TRUE(trapper.alive());
}

TEST_F(NodeTest, KillAcrossNodesArrivesAsKilledAtLinksAndMonitors) {
  Pid target = remote_spawn_on_b(exit_on_text);
  Inbox trapper(a_->runtime());
  trapper.context().trap_exit(true);
  ASSERT_TRUE(trapper.context().link(target).ok());
  Ref ref = trapper.context().monitor(target);
  trapper.context().exit(target, ExitReason::kill());
  EXPECT_EQ(must_receive_down(trapper, ref).reason, ExitReason::killed());
  Exit e = must_receive<Exit>(trapper);
  EXPECT_EQ(e.from, target);
  EXPECT_EQ(e.reason, ExitReason::killed());
}

TEST_F(NodeTest, RemoteMonitorFiresOnceWithTheReasonAndStacks) {
  Pid target = remote_spawn_on_b(exit_on_text);
  Inbox watcher(a_->runtime());
  Ref r1 = watcher.context().monitor(target);
  Ref r2 = watcher.context().monitor(target);
  ASSERT_TRUE(a_->runtime().send(target, text("throw")).ok());
  Down d1 = must_receive_down(watcher, r1);
  Down d2 = must_receive_down(watcher, r2);
  EXPECT_EQ(d1.pid, target);
  EXPECT_EQ(d1.reason.kind(), ExitReason::Kind::kException);
  EXPECT_NE(d1.reason.detail().find("asked to throw"), std::string::npos) << d1.reason;
  EXPECT_EQ(d2.reason, d1.reason);
  EXPECT_TRUE(nothing_of_type<Down>(watcher));
}

TEST_F(NodeTest, RemoteExitReasonTermArrivesAtLinksAndMonitors) {
  Pid target = remote_spawn_on_b(exit_with_term);
  Inbox trapper(a_->runtime());
  trapper.context().trap_exit(true);
  ASSERT_TRUE(trapper.context().link(target).ok());
  Ref ref = trapper.context().monitor(target);
  ASSERT_TRUE(a_->runtime().send(target, text("go")).ok());
  Down d = must_receive_down(trapper, ref);
  EXPECT_EQ(d.pid, target);
  EXPECT_EQ(d.reason, ExitReason::error(badmatch_term()));
  ASSERT_NE(d.reason.term(), nullptr);
  EXPECT_EQ(d.reason.to_string(), "{badmatch,[1,2.5,<<\"x\">>,#{k => {v}}]}");
  Exit e = must_receive<Exit>(trapper);
  EXPECT_EQ(e.from, target);
  EXPECT_EQ(e.reason, ExitReason::error(badmatch_term()));
}

TEST_F(NodeTest, RemoteExitReasonTermTooDeepArrivesAsUndecodable) {
  Pid target = remote_spawn_on_b(exit_with_term);
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor(target);
  ASSERT_TRUE(a_->runtime().send(target, text("deep")).ok());
  Down d = must_receive_down(watcher, ref);
  EXPECT_EQ(d.reason, ExitReason::error(plexus::kUndecodableReason));
  // The connection stays up: a second process still reports its own term.
  Pid other = remote_spawn_on_b(exit_with_term);
  Ref other_ref = watcher.context().monitor(other);
  ASSERT_TRUE(a_->runtime().send(other, text("go")).ok());
  EXPECT_EQ(must_receive_down(watcher, other_ref).reason, ExitReason::error(badmatch_term()));
  EXPECT_TRUE(wait_for_nodes(*a_, {b_->name()}));
}

TEST_F(NodeTest, AnExitReasonTextThatIsNotUtf8CrossesIntact) {
  Pid target = remote_spawn_on_b(exit_on_text);
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor(target);
  const std::string bytes = "bad \xff\xfe text";
  a_->runtime().exit(target, ExitReason::error(bytes));
  EXPECT_EQ(must_receive_down(watcher, ref).reason, ExitReason::error(bytes));
  EXPECT_TRUE(wait_for_nodes(*a_, {b_->name()})) << "the connection closed";
}

TEST_F(NodeTest, MonitoringADeadRemotePidGivesNoproc) {
  Pid target = remote_spawn_on_b(exit_on_text);
  Inbox watcher(a_->runtime());
  Ref first = watcher.context().monitor(target);
  ASSERT_TRUE(a_->runtime().send(target, text("normal")).ok());
  must_receive_down(watcher, first);
  Ref ref = watcher.context().monitor(target);
  EXPECT_EQ(must_receive_down(watcher, ref).reason, ExitReason::noproc());
}

TEST_F(NodeTest, LinkingToADeadRemotePidGivesNoproc) {
  Pid target = remote_spawn_on_b(exit_on_text);
  Inbox trapper(a_->runtime());
  trapper.context().trap_exit(true);
  Ref first = trapper.context().monitor(target);
  ASSERT_TRUE(a_->runtime().send(target, text("normal")).ok());
  must_receive_down(trapper, first);
  ASSERT_TRUE(trapper.context().link(target).ok());
  Exit e = must_receive<Exit>(trapper);
  EXPECT_EQ(e.from, target);
  EXPECT_EQ(e.reason, ExitReason::noproc());
}

TEST_F(NodeTest, DemonitorStopsARemoteDown) {
  Pid target = remote_spawn_on_b(exit_on_text);
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor(target);
  EXPECT_TRUE(watcher.context().demonitor(ref));
  Ref other = watcher.context().monitor(target);
  ASSERT_TRUE(a_->runtime().send(target, text("bye")).ok());
  must_receive_down(watcher, other);
  EXPECT_TRUE(nothing_of_type<Down>(watcher));
}

TEST_F(NodeTest, ExitSignalFromAnotherNodeFollowsErlangRules) {
  Pid target = remote_spawn_on_b(exit_on_text);
  Inbox watcher(a_->runtime());
  Ref ref = watcher.context().monitor(target);
  // normal from another process is ignored by a non-trapping process...
  watcher.context().exit(target, ExitReason::normal());
  // ...a custom reason kills it.
  watcher.context().exit(target, ExitReason::shutdown("remote"));
  EXPECT_EQ(must_receive_down(watcher, ref).reason, ExitReason::shutdown("remote"));
}

TEST_F(NodeTest, DisconnectFiresEveryLinkAndMonitorOnceWithNoconnection) {
  Pid t1 = remote_spawn_on_b(exit_on_text);
  Pid t2 = remote_spawn_on_b(exit_on_text);
  Inbox watcher(a_->runtime());
  watcher.context().trap_exit(true);
  Ref m1 = watcher.context().monitor(t1);
  Ref m2 = watcher.context().monitor(t2);
  ASSERT_TRUE(watcher.context().link(t1).ok());
  // Make sure b has everything before the connection goes.
  Inbox b_side(b_->runtime());
  PidProto pb;
  b_->to_proto(b_side.pid(), &pb);
  ASSERT_TRUE(a_->runtime().send(*a_->from_proto(pb), text("sync")).ok());
  must_receive<Text>(b_side);

  a_->disconnect(b_->name());
  EXPECT_EQ(must_receive_down(watcher, m1).reason, ExitReason::noconnection());
  EXPECT_EQ(must_receive_down(watcher, m2).reason, ExitReason::noconnection());
  Exit e = must_receive<Exit>(watcher);
  EXPECT_EQ(e.from, t1);
  EXPECT_EQ(e.reason, ExitReason::noconnection());
  EXPECT_TRUE(nothing_of_type<Down>(watcher));
  EXPECT_TRUE(nothing_of_type<Exit>(watcher));
  // On b, noconnection reached the link too and ended the non-trapping t1,
  // as in Erlang; t2 was only monitored and lives on.
  EXPECT_TRUE(eventually(b_->runtime(), [&] {
    return !b_->runtime().alive(Pid{0, t1.index, t1.serial});
  }));
  EXPECT_TRUE(b_->runtime().alive(Pid{0, t2.index, t2.serial}));
}

TEST_F(NodeTest, SubscribersSeeNodeUpAndDown) {
  auto c = start_node("c");
  std::string c_name = c->name();
  Inbox sub(a_->runtime());
  a_->subscribe(sub.pid());
  ASSERT_TRUE(a_->connect(c_name).ok());
  // The NodeUp of b (connected by SetUp) may still be on its way: a
  // subscriber sees events of every node, so pick c's.
  bool up = false;
  sub.receive(plexus::match([&](const NodeUp& u) { return u.node == c_name; },
                            [&](const NodeUp&) { up = true; }),
              after(kWait, [] {}));
  EXPECT_TRUE(up);
  c.reset();  // c stops: its connection closes
  std::optional<NodeDown> down;
  sub.receive(plexus::match([&](const NodeDown& d) { return d.node == c_name; },
                            [&](NodeDown& d) { down = std::move(d); }),
              after(kWait, [] {}));
  ASSERT_TRUE(down.has_value());
  EXPECT_FALSE(down->reason.empty());
}

TEST_F(NodeTest, MonitorNodeOfAnUnreachableNodeFiresAtOnce) {
  Inbox watcher(a_->runtime());
  // A port nothing listens on: bind one, then close it.
  std::string dead;
  {
    auto c = start_node("gone");
    dead = c->name();
  }
  a_->monitor_node(watcher.pid(), dead);
  NodeDown down = must_receive<NodeDown>(watcher);
  EXPECT_EQ(down.node, dead);
  auto status = a_->connect(dead);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status;
}

TEST_F(NodeTest, MonitorNodeFiresWhenTheNodeGoes) {
  auto c = start_node("c");
  ASSERT_TRUE(a_->connect(c->name()).ok());
  Inbox watcher(a_->runtime());
  a_->monitor_node(watcher.pid(), c->name());
  std::string name = c->name();
  c.reset();
  EXPECT_EQ(must_receive<NodeDown>(watcher).node, name);
}

Task<> report_spawn(Context self, SpawnArgs args) {
  Node* node = Node::of(self);
  auto to = node->from_proto(args.report_to());
  if (to.ok()) (void)self.send(*to, text(args.label() + ":" + std::to_string(args.value())));
  co_await self.receive([](Text&) {});
}

TEST_F(NodeTest, RemoteSpawnByTypeName) {
  ASSERT_TRUE(b_->register_process<SpawnArgs>("reporter", report_spawn).ok());
  EXPECT_EQ(b_->register_process<SpawnArgs>("reporter", report_spawn).code(),
            StatusCode::kAlreadyExists);
  Inbox in_a(a_->runtime());
  SpawnArgs args;
  args.set_label("hi");
  args.set_value(3);
  a_->to_proto(in_a.pid(), args.mutable_report_to());
  Ref ref = a_->spawn_request(in_a.pid(), b_->name(), "reporter", args);
  SpawnReply reply = must_receive<SpawnReply>(in_a);
  ASSERT_TRUE(reply.status.ok()) << reply.status;
  EXPECT_EQ(reply.ref, ref);
  EXPECT_EQ(a_->node_name(reply.pid), b_->name());
  EXPECT_EQ(must_receive<Text>(in_a).text(), "hi:3");
}

TEST_F(NodeTest, RemoteSpawnOfAnUnknownTypeIsAClearError) {
  Inbox in_a(a_->runtime());
  SpawnArgs args;
  a_->spawn_request(in_a.pid(), b_->name(), "no-such-type", args);
  SpawnReply reply = must_receive<SpawnReply>(in_a);
  EXPECT_EQ(reply.status.code(), StatusCode::kNotFound);
  EXPECT_NE(reply.status.message().find("no-such-type"), std::string::npos) << reply.status;
  EXPECT_FALSE(reply.pid.valid());
}

TEST_F(NodeTest, RemoteSpawnWithLinkAndMonitor) {
  ASSERT_TRUE(b_->register_process<SpawnArgs>("reporter", report_spawn).ok());
  Inbox in_a(a_->runtime());
  in_a.context().trap_exit(true);
  SpawnArgs args;
  Ref ref = a_->spawn_request(in_a.pid(), b_->name(), "reporter", args,
                              SpawnOptions{.link = true, .monitor = true});
  SpawnReply reply = must_receive<SpawnReply>(in_a);
  ASSERT_TRUE(reply.status.ok()) << reply.status;
  in_a.context().exit(reply.pid, ExitReason::error("stop"));
  Down down = must_receive_down(in_a, ref);
  EXPECT_EQ(down.pid, reply.pid);
  EXPECT_EQ(down.reason, ExitReason::error("stop"));
  Exit e = must_receive<Exit>(in_a);
  EXPECT_EQ(e.from, reply.pid);
  EXPECT_EQ(e.reason, ExitReason::error("stop"));
}

TEST_F(NodeTest, SpawnFromACoroutineWaitsForThePid) {
  ASSERT_TRUE(b_->register_process<SpawnArgs>("reporter", report_spawn).ok());
  Inbox in_a(a_->runtime());
  std::string b_name = b_->name();
  a_->runtime().spawn([b_name, report = in_a.pid()](Context self) -> Task<> {
    Node* node = Node::of(self);
    SpawnArgs args;
    args.set_label("co");
    node->to_proto(report, args.mutable_report_to());
    auto pid = co_await node->spawn(self, b_name, "reporter", args);
    (void)self.send(report, text(pid.ok() ? "spawned" : pid.status().to_string()));
  });
  std::vector<std::string> got{must_receive<Text>(in_a).text(), must_receive<Text>(in_a).text()};
  std::sort(got.begin(), got.end());
  EXPECT_EQ(got, (std::vector<std::string>{"co:0", "spawned"}));
}

TEST(NodeMeshTest, ThreeNodesFormAFullMeshFromOneSeed) {
  auto a = start_node("a");
  auto b = start_node("b", {a->name()});
  auto c = start_node("c", {a->name()});
  EXPECT_TRUE(wait_for_nodes(*a, {b->name(), c->name()}));
  EXPECT_TRUE(wait_for_nodes(*b, {a->name(), c->name()}));
  EXPECT_TRUE(wait_for_nodes(*c, {a->name(), b->name()}));
}

TEST(NodeMeshTest, MessagesFromOneProcessToAnotherArriveInSendOrder) {
  auto a = start_node("a");
  auto b = start_node("b");
  Inbox in_b(b->runtime());
  PidProto pb;
  b->to_proto(in_b.pid(), &pb);
  Pid to = *a->from_proto(pb);
  constexpr int kCount = kSanitized ? 100'000 : 1'000'000;
  a->runtime().spawn([to](Context self) {
    Counter c;
    for (int i = 0; i < kCount; ++i) {
      c.set_seq(i);
      (void)self.send(to, c);
    }
  });
  for (int i = 0; i < kCount; ++i) {
    Counter c = must_receive<Counter>(in_b);
    ASSERT_EQ(c.seq(), i);
  }
}

TEST(NodeStartTest, InvalidOptionsAreClearErrors) {
  NodeOptions bad = node_options("x");
  bad.name = "no-at-sign";
  EXPECT_EQ(Node::start(bad).status().code(), StatusCode::kInvalidArgument);
  bad = node_options("x");
  bad.cookie.clear();
  EXPECT_EQ(Node::start(bad).status().code(), StatusCode::kInvalidArgument);
  bad = node_options("x");
  bad.seeds = {"nohost"};
  EXPECT_EQ(Node::start(bad).status().code(), StatusCode::kInvalidArgument);
  bad = node_options("x");
  bad.runtime.deterministic = true;
  EXPECT_EQ(Node::start(bad).status().code(), StatusCode::kInvalidArgument);
  auto taken = start_node("x");
  bad = node_options("y");
  bad.name = "y@" + taken->name().substr(taken->name().find('@') + 1);
  auto status = Node::start(bad).status();
  EXPECT_EQ(status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(status.message().find("cannot listen"), std::string::npos) << status;
}

}  // namespace
}  // namespace plexus_test

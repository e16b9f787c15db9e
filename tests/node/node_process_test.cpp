// Nodes as separate OS processes: plexus-node daemons (examples/plexus-node)
// started by the test, driven from a node inside the test process with the
// messages of node_control.proto. Membership, remote send, spawn, link and
// monitor across processes, and what a node that is killed, frozen or
// restarted does to everything that watched it. The fixture is in
// node_process_fixture.h; the daemon's signals and cookies are in
// node_daemon_lifecycle_test.cpp.
#include "node_process_fixture.h"

namespace plexus_test {
namespace {

// a joins the test node; b and c know only a.
TEST_F(NodeProcessTest, ThreeDaemonsFormAFullMeshFromOneSeed) {
  Daemon& a = start_daemon("a");
  Daemon& b = start_daemon("b", {a.name()});
  Daemon& c = start_daemon("c", {a.name()});
  EXPECT_FALSE(a.name().ends_with(":0")) << "port 0 is replaced by the one chosen";
  EXPECT_NE(a.creation(), b.creation());
  EXPECT_NE(b.creation(), c.creation());
  // Every node sees the three others.
  EXPECT_TRUE(wait_for_view(a, {b.name(), c.name(), t_->name()}));
  EXPECT_TRUE(wait_for_view(b, {a.name(), c.name(), t_->name()}));
  EXPECT_TRUE(wait_for_view(c, {a.name(), b.name(), t_->name()}));
  EXPECT_TRUE(wait_for_nodes(*t_, {a.name(), b.name(), c.name()}));
  NodeInfo info = node_info(b);
  EXPECT_EQ(info.node(), b.name());
  EXPECT_EQ(info.creation(), b.creation());
}

TEST_F(NodeProcessTest, SendByNameAndByPidCrossesBothWays) {
  Daemon& d = start_lone_daemon("d");
  // By registered name to the daemon (the first contact: the message waits
  // for the connection), by pid (in the message) back.
  EXPECT_EQ(node_info(d).creation(), d.creation());

  Pid e = spawn(d, "echo", EchoArgs());
  constexpr int kCount = 1000;
  for (int i = 0; i < kCount; ++i) echo(e, std::to_string(i));
  for (int i = 0; i < kCount; ++i) {
    EchoReply reply = must_receive<EchoReply>(inbox());
    ASSERT_EQ(reply.payload(), std::to_string(i)) << "replies come back in send order";
    ASSERT_EQ(pid_of(reply.from()), e);
  }
  std::string big(4 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 7919 >> 3);
  echo(e, big);
  EXPECT_TRUE(must_receive<EchoReply>(inbox()).payload() == big) << "4 MiB came back changed";
}

TEST_F(NodeProcessTest, RemoteSpawnByTypeNameAndItsErrors) {
  Daemon& d = start_lone_daemon("d");  // the spawn request is the first contact
  SpawnReply spawned = spawn_reply(d.name(), "echo", EchoArgs());
  ASSERT_TRUE(spawned.status.ok()) << spawned.status;
  EXPECT_EQ(t_->node_name(spawned.pid), d.name());
  echo(spawned.pid, "spawned");
  EXPECT_EQ(must_receive<EchoReply>(inbox()).payload(), "spawned");

  SpawnReply unknown = spawn_reply(d.name(), "no-such-type", EchoArgs());
  EXPECT_EQ(unknown.status.code(), StatusCode::kNotFound);
  EXPECT_NE(unknown.status.message().find("no-such-type"), std::string::npos) << unknown.status;
  EXPECT_NE(unknown.status.message().find(d.name()), std::string::npos) << unknown.status;
  EXPECT_FALSE(unknown.pid.valid());

  SpawnReply wrong_args = spawn_reply(d.name(), "echo", ExiterArgs());
  EXPECT_EQ(wrong_args.status.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(wrong_args.status.message().find("plexus_node.EchoArgs"), std::string::npos)
      << wrong_args.status;

  // Spawned linked and monitored: both fire with the child's reason.
  inbox().context().trap_exit(true);
  SpawnReply watched =
      spawn_reply(d.name(), "exiter", ExiterArgs(), SpawnOptions{.link = true, .monitor = true});
  ASSERT_TRUE(watched.status.ok()) << watched.status;
  ASSERT_TRUE(t_->runtime().send(watched.pid, command(ExitCommand::ERROR, "stop")).ok());
  EXPECT_EQ(must_receive_down(inbox(), watched.ref).reason, ExitReason::error("stop"));
  EXPECT_EQ(must_receive_exit(inbox(), watched.pid).reason, ExitReason::error("stop"));
}

TEST_F(NodeProcessTest, LinksAndMonitorsOnADaemonProcessSeeItsReason) {
  Daemon& d = start_daemon("d");
  struct Case {
    std::string name;
    std::function<void(Pid)> end;  // makes the exiter exit
    std::function<::testing::AssertionResult(const ExitReason&)> expect;
  };
  auto is = [](ExitReason want) {
    return [want](const ExitReason& got) {
      if (got == want) return ::testing::AssertionSuccess();
      return ::testing::AssertionFailure() << "got " << got << ", expected " << want;
    };
  };
  auto send = [&](ExitCommand c) {
    return [this, c](Pid pid) { ASSERT_TRUE(t_->runtime().send(pid, c).ok()); };
  };
  auto exit_signal = [&](ExitReason reason) {
    return [this, reason](Pid pid) { inbox().context().exit(pid, reason); };
  };
  std::vector<Case> cases{
      {"normal", send(command(ExitCommand::NORMAL)), is(ExitReason::normal())},
      {"error", send(command(ExitCommand::ERROR, "boom")), is(ExitReason::error("boom"))},
      {"throw", send(command(ExitCommand::THROW, "asked to throw")),
       [](const ExitReason& got) { return is_exception_with(got, "asked to throw"); }},
      {"kill", exit_signal(ExitReason::kill()), is(ExitReason::killed())},
      {"shutdown", exit_signal(ExitReason::shutdown("bye")), is(ExitReason::shutdown("bye"))},
  };
  inbox().context().trap_exit(true);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Pid exiter = spawn(d, "exiter", ExiterArgs());
    ASSERT_TRUE(inbox().context().link(exiter).ok());
    Ref ref = inbox().context().monitor(exiter);
    c.end(exiter);
    Down down = must_receive_down(inbox(), ref);
    EXPECT_EQ(down.pid, exiter);
    EXPECT_TRUE(c.expect(down.reason));
    EXPECT_TRUE(c.expect(must_receive_exit(inbox(), exiter).reason));
  }

  // A process that does not trap exits dies of an abnormal exit of a
  // linked daemon process, and not of a normal one.
  Pid failing = spawn(d, "exiter", ExiterArgs());
  Pid quitting = spawn(d, "exiter", ExiterArgs());
  Pid victim = t_->runtime().spawn(link_then_obey, failing, inbox().pid());
  Pid survivor = t_->runtime().spawn(link_then_obey, quitting, inbox().pid());
  EXPECT_EQ(must_receive<Text>(inbox()).text(), "linked");
  EXPECT_EQ(must_receive<Text>(inbox()).text(), "linked");
  expect_only_abnormal_exits_kill(failing, victim, quitting, survivor);
}

TEST_F(NodeProcessTest, DaemonProcessesWatchingATestProcessSeeItsReason) {
  Daemon& d = start_daemon("d");
  auto exit_signal_from_daemon = [&](ExitReason reason) {
    return [this, &d, reason](Pid pid) {
      SendExit request;
      *request.mutable_target() = proto(pid);
      plexus::to_proto(reason, request.mutable_reason()->mutable_exact());
      request.mutable_reason()->set_text(reason.to_string());
      ASSERT_TRUE(t_->send(d.name(), "control", request).ok());
    };
  };
  auto send = [&](ExitCommand c) {
    return [this, c](Pid pid) { ASSERT_TRUE(t_->runtime().send(pid, c).ok()); };
  };
  struct Case {
    std::string name;
    std::function<void(Pid)> end;
    ExitReason expected;  // for a throw: an exception whose detail has `text`
    std::string text;
  };
  std::vector<Case> cases{
      {"normal", send(command(ExitCommand::NORMAL)), ExitReason::normal(), ""},
      {"error", send(command(ExitCommand::ERROR, "boom")), ExitReason::error("boom"), ""},
      {"throw", send(command(ExitCommand::THROW, "thrown")),
       ExitReason::exception("std::runtime_error", "thrown"), "thrown"},
      {"kill from the daemon", exit_signal_from_daemon(ExitReason::kill()), ExitReason::killed(),
       ""},
      {"shutdown from the daemon", exit_signal_from_daemon(ExitReason::shutdown("bye")),
       ExitReason::shutdown("bye"), ""},
      {"a term from the daemon", exit_signal_from_daemon(ExitReason::error(badarg_term())),
       ExitReason::error(badarg_term()), ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Pid target = t_->runtime().spawn(obey_command);
    Pid linker = watch(d, "linker", target);
    Pid monitorer = watch(d, "monitorer", target);
    c.end(target);
    ExitReport exit = must_receive_report<ExitReport>(linker);
    DownReport down = must_receive_report<DownReport>(monitorer);
    EXPECT_EQ(pid_of(exit.from()), target);
    EXPECT_EQ(pid_of(down.pid()), target);
    if (c.text.empty()) {
      EXPECT_TRUE(is_reason(exit.reason(), c.expected));
      EXPECT_TRUE(is_reason(down.reason(), c.expected));
    } else {
      ExitReason got = plexus::from_proto(exit.reason().exact());
      EXPECT_TRUE(is_exception_with(got, c.text));
      EXPECT_EQ(plexus::from_proto(down.reason().exact()), got);
    }
  }

  // A daemon process that does not trap exits dies of an abnormal exit of a
  // linked test process, and not of a normal one.
  Pid failing = t_->runtime().spawn(obey_command);
  Pid quitting = t_->runtime().spawn(obey_command);
  Pid victim = watch(d, "linker", failing, /*trap_exit=*/false);
  Pid survivor = watch(d, "linker", quitting, /*trap_exit=*/false);
  expect_only_abnormal_exits_kill(failing, victim, quitting, survivor);
}

}  // namespace

// (A member of the fixture, which is not in this file's unnamed namespace.)
// Every link and monitor that crosses to a daemon fires with noconnection
// within kLossBound of `signal` reaching it: those of the test node, those
// of another daemon, and the links the lost daemon made itself.
void NodeProcessTest::every_watch_fires_when_lost(int signal) {
  Daemon& lost = start_daemon("lost");
  Daemon& other = start_daemon("other", {lost.name()});
  ASSERT_TRUE(wait_for_view(other, {lost.name(), t_->name()}));
  Pid e1 = spawn(lost, "exiter", ExiterArgs());
  Pid e2 = spawn(lost, "exiter", ExiterArgs());
  Pid e3 = spawn(lost, "exiter", ExiterArgs());

  inbox().context().trap_exit(true);
  ASSERT_TRUE(inbox().context().link(e1).ok());
  Ref m1 = inbox().context().monitor(e1);
  Ref m2 = inbox().context().monitor(e2);
  Inbox linked_by_lost(t_->runtime());
  linked_by_lost.context().trap_exit(true);
  Pid lost_linker = watch(lost, "linker", linked_by_lost.pid(), true, linked_by_lost);
  Pid other_linker = watch(other, "linker", e1);
  Pid other_monitorer = watch(other, "monitorer", e2);
  Pid other_dies = watch(other, "linker", e3, /*trap_exit=*/false);
  Ref m3 = inbox().context().monitor(other_dies);
  // The monitor must reach `other` before `lost` dies: otherwise other_dies
  // may be gone already and the Down say noproc, as in Erlang. A request on
  // the same connection is answered only after the monitor is in place.
  node_info(other);
  Inbox node_watcher(t_->runtime());
  t_->monitor_node(node_watcher.pid(), lost.name());

  Clock::time_point lost_at = Clock::now();
  lost.process().signal(signal);

  std::vector<std::pair<std::string, Clock::duration>> arrivals;
  auto arrived = [&](const std::string& what) {
    arrivals.emplace_back(what, Clock::now() - lost_at);
  };
  Exit exit = must_receive_exit(inbox(), e1);
  arrived("link test node -> lost");
  EXPECT_EQ(exit.reason, ExitReason::noconnection());
  EXPECT_EQ(must_receive_down(inbox(), m1).reason, ExitReason::noconnection());
  arrived("monitor test node -> lost (linked too)");
  EXPECT_EQ(must_receive_down(inbox(), m2).reason, ExitReason::noconnection());
  arrived("monitor test node -> lost");
  exit = must_receive_exit(linked_by_lost, lost_linker);
  arrived("link lost -> test node");
  EXPECT_EQ(exit.reason, ExitReason::noconnection());
  ExitReport report = must_receive_report<ExitReport>(other_linker);
  arrived("link other daemon -> lost");
  EXPECT_TRUE(is_reason(report.reason(), ExitReason::noconnection()));
  EXPECT_EQ(pid_of(report.from()), e1);
  DownReport down = must_receive_report<DownReport>(other_monitorer);
  arrived("monitor other daemon -> lost");
  EXPECT_TRUE(is_reason(down.reason(), ExitReason::noconnection()));
  EXPECT_EQ(pid_of(down.pid()), e2);
  EXPECT_EQ(must_receive_down(inbox(), m3).reason, ExitReason::noconnection());
  arrived("link other daemon -> lost, not trapping");
  NodeDown node_down = must_receive<NodeDown>(node_watcher);
  arrived("monitor_node");
  EXPECT_EQ(node_down.node, lost.name());
  if (signal == SIGSTOP) {
    EXPECT_NE(node_down.reason.find("tick timeout"), std::string::npos) << node_down.reason;
  }

  std::string timings;
  for (const auto& [what, elapsed] : arrivals) {
    EXPECT_LT(elapsed, kLossBound) << what << ": " << ms(elapsed) << " ms after the signal";
    timings += what + ": " + std::to_string(ms(elapsed)) + " ms; ";
  }
  RecordProperty("arrivals", timings);
}

namespace {

TEST_F(NodeProcessTest, KillMinus9FiresEveryLinkAndMonitorWithNoconnection) {
  every_watch_fires_when_lost(SIGKILL);
}

// A frozen node keeps its sockets open: only the tick timeout finds it.
TEST_F(NodeProcessTest, AFrozenNodeIsFoundByTheTickTimeout) {
  every_watch_fires_when_lost(SIGSTOP);
}

TEST_F(NodeProcessTest, ARestartedNodeOnTheSamePortIsANewNode) {
  Daemon& old_node = start_daemon("r");
  const std::string name = old_node.name();
  Pid old_echo = spawn(old_node, "echo", EchoArgs());
  Pid old_exiter = spawn(old_node, "exiter", ExiterArgs());
  echo(old_echo, "before");
  EXPECT_EQ(must_receive<EchoReply>(inbox()).payload(), "before");
  Ref lost = inbox().context().monitor(old_exiter);
  old_node.process().kill_and_wait();
  EXPECT_EQ(must_receive_down(inbox(), lost).reason, ExitReason::noconnection());
  // While nothing listens there, a pid of it is dead at once.
  Ref while_down = inbox().context().monitor(old_echo);
  EXPECT_EQ(must_receive_down(inbox(), while_down).reason, ExitReason::noconnection());

  Daemon& new_node = start_daemon(Daemon::Options{.name = name, .seeds = {t_->name()}});
  EXPECT_EQ(new_node.name(), name);
  EXPECT_NE(new_node.creation(), old_node.creation());
  Pid new_echo = spawn(new_node, "echo", EchoArgs());
  EXPECT_NE(new_echo.node, old_echo.node) << "another incarnation, another node index";
  EXPECT_EQ(t_->node_name(new_echo), name);
  EXPECT_EQ(t_->node_name(old_echo), name);

  // The new incarnation likely reuses the old pid's slot and serial: only the
  // creation tells them apart. A send to the old pid is dropped.
  echo(old_echo, "to the old pid");
  echo(new_echo, "to the new pid");
  EXPECT_EQ(must_receive<EchoReply>(inbox()).payload(), "to the new pid");
  EXPECT_TRUE(nothing_of_type<EchoReply>(inbox()));
  // Monitoring or linking an old pid while the node is connected again:
  // noproc, as Erlang answers (the node is there; the process is not).
  Ref old_ref = inbox().context().monitor(old_echo);
  EXPECT_EQ(must_receive_down(inbox(), old_ref).reason, ExitReason::noproc());
  inbox().context().trap_exit(true);
  ASSERT_TRUE(inbox().context().link(old_echo).ok());
  EXPECT_EQ(must_receive_exit(inbox(), old_echo).reason, ExitReason::noproc());
  // The new one works.
  Ref new_ref = inbox().context().monitor(new_echo);
  ASSERT_TRUE(t_->runtime().send(new_echo, command(ExitCommand::ERROR, "bye")).ok());
  EXPECT_EQ(must_receive_down(inbox(), new_ref).reason, ExitReason::error("bye"));
  NodeInfo info = node_info(new_node);
  EXPECT_EQ(info.creation(), new_node.creation());
  EXPECT_EQ(std::vector<std::string>(info.nodes().begin(), info.nodes().end()),
            std::vector<std::string>{t_->name()});
}

}  // namespace
}  // namespace plexus_test

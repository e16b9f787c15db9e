// Nodes as separate OS processes: plexus-node daemons (examples/plexus-node)
// started by the test, driven from a node inside the test process with the
// messages of node_control.proto. Membership, remote send, spawn, link and
// monitor across processes, and what a node that is killed, frozen or
// restarted does to everything that watched it.
//
// One file: every case shares the daemons' fixture and the helpers that
// wait for a cluster to settle.
#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "node_control.pb.h"
#include "node_process_support.h"
#include "plexus/node/exit_reason_proto.h"

namespace plexus_test {
namespace {

using plexus::match;
using plexus::PidProto;
using plexus::SpawnOptions;
using plexus::SpawnReply;
using plexus_node::DownReport;
using plexus_node::Echo;
using plexus_node::EchoArgs;
using plexus_node::EchoReply;
using plexus_node::ExitCommand;
using plexus_node::ExiterArgs;
using plexus_node::ExitReport;
using plexus_node::NodeInfo;
using plexus_node::NodeInfoRequest;
using plexus_node::SendExit;
using plexus_node::WatchArgs;
using plexus_node::Watching;
using Clock = std::chrono::steady_clock;

// The tick timeout of every node here (the test node's is node_options'),
// and how soon the links and monitors of a lost node must fire.
constexpr std::chrono::milliseconds kTick = 1000ms;
constexpr std::chrono::milliseconds kLossBound = kTick + 1000ms;

int64_t ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Whether a reason reported by a daemon is `want`.
::testing::AssertionResult is_reason(const plexus_node::Reason& got, const ExitReason& want) {
  if (plexus::from_proto(got.exact()) == want && got.text() == want.to_string()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got.text() << ", expected " << want;
}

::testing::AssertionResult is_exception_with(const ExitReason& got, const std::string& what) {
  if (got.kind() == ExitReason::Kind::kException && got.detail().find(what) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got << ", expected an exception with " << what;
}

// A structured reason: {badarg, [1, <<"two">>]}.
plexus::Term badarg_term() {
  using plexus::Term;
  return Term::tuple({Term::atom("badarg"), Term::list({Term::integer(1), Term::binary("two")})});
}

// Exits as an ExitCommand says, as the daemon's processes do.
void obey(Context self, const ExitCommand& c) {
  if (c.how() == ExitCommand::ERROR) self.exit(ExitReason::error(c.text()));
  if (c.how() == ExitCommand::THROW) throw std::runtime_error(c.text());
}

// A process of the test node that waits for an ExitCommand.
Task<> obey_command(Context self) { obey(self, co_await self.receive<ExitCommand>()); }

// A process of the test node that links to `target`, says "linked" to
// `report`, then waits for an ExitCommand. It does not trap exits.
Task<> link_then_obey(Context self, Pid target, Pid report) {
  (void)self.link(target);
  (void)self.send(report, text("linked"));
  obey(self, co_await self.receive<ExitCommand>());
}

class NodeProcessTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (kNodeBinary == nullptr) GTEST_SKIP() << "built without examples/plexus-node";
    t_ = start_node("t", {}, &logs_);
    inbox_.emplace(t_->runtime());
  }

  void TearDown() override {
    for (const auto& d : daemons_) {
      EXPECT_EQ(d->log().find("Sanitizer"), std::string::npos) << d->name() << " reported an error";
    }
    if (!HasFailure()) return;
    std::cerr << "--- test node " << (t_ ? t_->name() : "") << ":\n" << logs_.dump();
    for (const auto& d : daemons_) {
      std::cerr << "--- " << d->name() << " (pid " << d->process().pid() << "):\n" << d->log();
    }
  }

  // Starts a daemon (killed when the test ends) that joins the cluster
  // through `seeds` (default: the test node), and waits until the test node
  // is connected to it.
  Daemon& start_daemon(const std::string& base, std::vector<std::string> seeds = {}) {
    if (seeds.empty()) seeds.push_back(t_->name());
    return start_daemon(Daemon::Options{.name = base + "@127.0.0.1:0", .seeds = std::move(seeds)});
  }
  Daemon& start_daemon(const Daemon::Options& options) {
    daemons_.push_back(Daemon::start(options));
    Daemon& d = *daemons_.back();
    auto deadline = Clock::now() + kWait;
    for (;;) {
      std::vector<std::string> nodes = t_->nodes();
      if (std::find(nodes.begin(), nodes.end(), d.name()) != nodes.end()) return d;
      if (Clock::now() > deadline) {
        throw std::runtime_error(d.name() + " never connected to the test node");
      }
      std::this_thread::sleep_for(5ms);
    }
  }

  // Starts a daemon that knows no other node: the test node makes the first
  // contact, by its name.
  Daemon& start_lone_daemon(const std::string& base) {
    daemons_.push_back(Daemon::start(Daemon::Options{.name = base + "@127.0.0.1:0"}));
    return *daemons_.back();
  }

  Inbox& inbox() { return *inbox_; }

  PidProto proto(Pid pid) const {
    PidProto p;
    t_->to_proto(pid, &p);
    return p;
  }

  Pid pid_of(const PidProto& p) {
    auto pid = t_->from_proto(p);
    if (!pid.ok()) throw std::runtime_error("bad pid in a message: " + pid.status().to_string());
    return *pid;
  }

  template <class A>
  SpawnReply spawn_reply(const std::string& node, const std::string& type, const A& args,
                         SpawnOptions options = {}) {
    Ref ref = t_->spawn_request(inbox().pid(), node, type, args, options);
    std::optional<SpawnReply> reply;
    inbox().receive(match([ref](const SpawnReply& r) { return r.ref == ref; },
                          [&](SpawnReply& r) { reply = std::move(r); }),
                    after(kWait, [] {}));
    if (!reply) throw std::runtime_error("no reply to spawning " + type + " on " + node);
    return std::move(*reply);
  }

  template <class A>
  Pid spawn(const Daemon& d, const std::string& type, const A& args, SpawnOptions options = {}) {
    SpawnReply reply = spawn_reply(d.name(), type, args, options);
    if (!reply.status.ok()) {
      throw std::runtime_error("spawning " + type + " on " + d.name() + ": " +
                               reply.status.to_string());
    }
    return reply.pid;
  }

  // Asks the daemon's control process (by its registered name) about it.
  NodeInfo node_info(const Daemon& d) {
    NodeInfoRequest request;
    *request.mutable_reply_to() = proto(inbox().pid());
    plexus::Status sent = t_->send(d.name(), "control", request);
    if (!sent.ok()) throw std::runtime_error("send to control: " + sent.to_string());
    std::optional<NodeInfo> info;
    inbox().receive(match([&](const NodeInfo& i) { return i.node() == d.name(); },
                          [&](NodeInfo& i) { info = std::move(i); }),
                    after(kWait, [] {}));
    if (!info) throw std::runtime_error("no NodeInfo from " + d.name());
    return std::move(*info);
  }

  // Waits until the daemon says it is connected to exactly `expected`.
  ::testing::AssertionResult wait_for_view(const Daemon& d, std::vector<std::string> expected) {
    std::sort(expected.begin(), expected.end());
    auto deadline = Clock::now() + kWait;
    for (;;) {
      NodeInfo info = node_info(d);
      std::vector<std::string> seen(info.nodes().begin(), info.nodes().end());
      std::sort(seen.begin(), seen.end());
      if (seen == expected) return ::testing::AssertionSuccess();
      if (Clock::now() > deadline) {
        return ::testing::AssertionFailure()
               << d.name() << " sees " << join(seen) << ", expected " << join(expected);
      }
      std::this_thread::sleep_for(10ms);
    }
  }

  // Spawns a "linker" or "monitorer" on `d` watching `target` and waits
  // until it watches. It reports to `reply_to`.
  Pid watch(const Daemon& d, const std::string& type, Pid target, bool trap_exit, Inbox& reply_to) {
    WatchArgs args;
    *args.mutable_target() = proto(target);
    *args.mutable_reply_to() = proto(reply_to.pid());
    args.set_trap_exit(trap_exit);
    Pid watcher = spawn(d, type, args);
    bool watching = reply_to.receive(
        match([&](const Watching& w) { return pid_of(w.watcher()) == watcher; }, [](Watching&) {}),
        after(kWait, [] {}));
    if (!watching) throw std::runtime_error(type + " on " + d.name() + " never watched");
    return watcher;
  }
  Pid watch(const Daemon& d, const std::string& type, Pid target, bool trap_exit = true) {
    return watch(d, type, target, trap_exit, inbox());
  }

  // `victim` is linked to `failing` and `survivor` to `quitting`, on either
  // side of a connection, neither trapping exits; both targets obey an
  // ExitCommand. An abnormal exit of `failing` kills the victim; a normal
  // one of `quitting` leaves the survivor, which still obeys afterwards.
  void expect_only_abnormal_exits_kill(Pid failing, Pid victim, Pid quitting, Pid survivor) {
    Ref victim_ref = inbox().context().monitor(victim);
    Ref survivor_ref = inbox().context().monitor(survivor);
    Ref quitting_ref = inbox().context().monitor(quitting);
    ASSERT_TRUE(t_->runtime().send(failing, command(ExitCommand::ERROR, "boom")).ok());
    EXPECT_EQ(must_receive_down(inbox(), victim_ref).reason, ExitReason::error("boom"));
    ASSERT_TRUE(t_->runtime().send(quitting, command(ExitCommand::NORMAL)).ok());
    must_receive_down(inbox(), quitting_ref);
    // Links are signalled before monitors, on the one connection: the
    // survivor had the normal exit before the command below.
    ASSERT_TRUE(t_->runtime().send(survivor, command(ExitCommand::ERROR, "still here")).ok());
    EXPECT_EQ(must_receive_down(inbox(), survivor_ref).reason, ExitReason::error("still here"));
  }

  // The next ExitReport or DownReport from `watcher`.
  template <class Report>
  Report must_receive_report(Pid watcher) {
    std::optional<Report> got;
    inbox().receive(match([&](const Report& r) { return pid_of(r.watcher()) == watcher; },
                          [&](Report& r) { got = std::move(r); }),
                    after(kWait, [] {}));
    if (!got) throw std::runtime_error("no report from " + watcher.to_string());
    return std::move(*got);
  }

  // The next Exit from `from`.
  Exit must_receive_exit(Inbox& inbox, Pid from) {
    std::optional<Exit> got;
    inbox.receive(match([from](const Exit& e) { return e.from == from; },
                        [&](Exit& e) { got = std::move(e); }),
                  after(kWait, [] {}));
    if (!got) throw std::runtime_error("no Exit from " + from.to_string());
    return std::move(*got);
  }

  void echo(Pid to, const std::string& payload) {
    Echo e;
    e.set_payload(payload);
    *e.mutable_reply_to() = proto(inbox().pid());
    ASSERT_TRUE(t_->runtime().send(to, e).ok());
  }

  void every_watch_fires_when_lost(int signal);

  LogCapture logs_;  // outlives the test node
  std::unique_ptr<Node> t_;
  std::optional<Inbox> inbox_;                    // destroyed before t_
  std::vector<std::unique_ptr<Daemon>> daemons_;  // killed first
};

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

TEST_F(NodeProcessTest, SigtermAndSigintStopADaemonCleanly) {
  for (int signal : {SIGTERM, SIGINT}) {
    SCOPED_TRACE(strsignal(signal));
    Daemon& d = start_daemon("d");
    Inbox watcher(t_->runtime());
    t_->monitor_node(watcher.pid(), d.name());
    d.process().signal(signal);
    std::optional<int> status = d.process().wait(kWait);
    ASSERT_TRUE(status.has_value()) << "still running";
    EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describe_wait_status(*status);
    EXPECT_EQ(must_receive<NodeDown>(watcher).node, d.name());
  }
}

TEST_F(NodeProcessTest, SighupDoesNotStopADaemon) {
  Daemon& d = start_daemon("h");
  uint64_t creation = node_info(d).creation();
  d.process().signal(SIGHUP);
  ASSERT_TRUE(eventually(
      t_->runtime(), [&] { return d.log().find("SIGHUP") != std::string::npos; }, kWait))
      << d.log();
  EXPECT_EQ(node_info(d).creation(), creation) << "the same daemon answers";
  d.process().signal(SIGTERM);
  std::optional<int> status = d.process().wait(kWait);
  ASSERT_TRUE(status.has_value()) << "still running";
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0) << describe_wait_status(*status);
}

TEST_F(NodeProcessTest, TheCookieMayComeFromTheEnvironment) {
  Daemon& d = start_daemon(Daemon::Options{
      .name = "env@127.0.0.1:0", .seeds = {t_->name()}, .cookie_from_environment = true});
  EXPECT_EQ(node_info(d).node(), d.name());
}

TEST_F(NodeProcessTest, ADaemonWithAnotherCookieIsRefused) {
  ChildProcess process({kNodeBinary, "--name", "stranger@127.0.0.1:0", "--cookie", "other"},
                       environment_without("PLEXUS_COOKIE"));
  std::optional<std::string> ready = process.read_line(kWait);
  ASSERT_TRUE(ready && ready->starts_with("READY ")) << process.output();
  std::string name = ready->substr(6, ready->rfind(' ') - 6);
  plexus::Status status = t_->connect(name);
  EXPECT_EQ(status.code(), StatusCode::kUnavailable) << status;
  EXPECT_TRUE(t_->nodes().empty());
}

}  // namespace
}  // namespace plexus_test

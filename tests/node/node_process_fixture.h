// NodeProcessTest: a test node and plexus-node daemons (examples/plexus-node)
// as separate OS processes, driven with the messages of node_control.proto,
// and the helpers that spawn, watch and wait on them. Shared by
// node_process_test.cpp (membership, send, spawn, links and monitors across
// processes, lost nodes) and node_daemon_lifecycle_test.cpp (signals, cookies).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "node_control.pb.h"
#include "node_process_support.h"
#include "plexus/node/exit_reason_proto.h"

namespace plexus_test {

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
inline constexpr std::chrono::milliseconds kTick = 1000ms;
inline constexpr std::chrono::milliseconds kLossBound = kTick + 1000ms;

inline int64_t ms(Clock::duration d) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(d).count();
}

// Whether a reason reported by a daemon is `want`.
inline ::testing::AssertionResult is_reason(const plexus_node::Reason& got,
                                            const ExitReason& want) {
  if (plexus::from_proto(got.exact()) == want && got.text() == want.to_string()) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got.text() << ", expected " << want;
}

inline ::testing::AssertionResult is_exception_with(const ExitReason& got,
                                                    const std::string& what) {
  if (got.kind() == ExitReason::Kind::kException && got.detail().find(what) != std::string::npos) {
    return ::testing::AssertionSuccess();
  }
  return ::testing::AssertionFailure() << "got " << got << ", expected an exception with " << what;
}

// A structured reason: {badarg, [1, <<"two">>]}.
inline plexus::Term badarg_term() {
  using plexus::Term;
  return Term::tuple({Term::atom("badarg"), Term::list({Term::integer(1), Term::binary("two")})});
}

// Exits as an ExitCommand says, as the daemon's processes do.
inline void obey(Context self, const ExitCommand& c) {
  if (c.how() == ExitCommand::ERROR) self.exit(ExitReason::error(c.text()));
  if (c.how() == ExitCommand::THROW) throw std::runtime_error(c.text());
}

// A process of the test node that waits for an ExitCommand.
inline Task<> obey_command(Context self) { obey(self, co_await self.receive<ExitCommand>()); }

// A process of the test node that links to `target`, says "linked" to
// `report`, then waits for an ExitCommand. It does not trap exits.
inline Task<> link_then_obey(Context self, Pid target, Pid report) {
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
    return start_lone_daemon(Daemon::Options{.name = base + "@127.0.0.1:0"});
  }
  // The same with options: not waited for beyond its READY line.
  Daemon& start_lone_daemon(const Daemon::Options& options) {
    daemons_.push_back(Daemon::start(options));
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

}  // namespace plexus_test

// The zen monitor. Black-box cases run twice, with targets on the
// subscriber's own node and on a plexus-node daemon (a separate OS process on
// 127.0.0.1); the rest need the daemon: kill -9, throttling, 100,000 deaths,
// and a daemon without a zen monitor. Intervals are 10 ms here (100 ms by
// default).
//
// One file: the black-box cases and the remote-only ones share the daemon
// fixture and the helpers that watch a zen monitor settle.
#include "plexus/zen/zen_monitor.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>
#include <set>
#include <thread>
#include <unordered_set>

#include "node_control.pb.h"
#include "node_process_support.h"
#include "plexus/term.h"
#include "plexus/zen.pb.h"

namespace plexus_test {
namespace {

namespace zen = plexus::zen;
using plexus::match;
using plexus::SpawnReply;
using plexus::Term;
using plexus_node::ExitCommand;
using plexus_node::ExiterArgs;
using Clock = std::chrono::steady_clock;

constexpr std::chrono::milliseconds kFast = 10ms;
constexpr std::chrono::milliseconds kHeavyTick = 10'000ms;

zen::Options fast_options() {
  zen::Options o;
  o.connector_sweep_interval = kFast;
  o.batcher_sweep_interval = kFast;
  o.demand_interval = kFast;
  o.demand_amount = 100'000;
  o.ping_timeout = 500ms;
  o.incompatible_backoff = 500ms;
  return o;
}

enum class Where { kLocal, kRemote };

std::string where_name(const ::testing::TestParamInfo<Where>& info) {
  return info.param == Where::kLocal ? "LocalTarget" : "RemoteTarget";
}

// A process of the test node that exits as an ExitCommand says, as the
// daemon's "exiter" does.
Task<> exiter(Context self) {
  ExitCommand c = co_await self.receive<ExitCommand>();
  if (c.how() == ExitCommand::ERROR) self.exit(ExitReason::error(c.text()));
  if (c.how() == ExitCommand::THROW) throw std::runtime_error(c.text());
}

// What a subscriber process reports for each zen Down it gets.
struct Got {
  Pid subscriber;
  zen::Down down;
};
struct Ready {
  Pid subscriber;
};

// Zen-monitors `targets`, says Ready, then reports every zen Down it gets.
Task<> subscriber(Context self, std::vector<Pid> targets, Pid report) {
  for (Pid t : targets) zen::monitor(self, t);
  (void)self.send(report, Ready{self.self()});
  for (;;) {
    zen::Down d = co_await self.receive<zen::Down>();
    (void)self.send(report, Got{self.self(), std::move(d)});
  }
}

class ZenTestBase : public ::testing::Test {
 protected:
  // Heavy tests give both nodes a longer tick timeout: under a sanitizer, a
  // node busy with 100,000 processes may not be heard from for a second.
  void start(Where where, std::vector<std::string> daemon_flags = {"--zen-sweep-ms", "10"},
             std::chrono::milliseconds tick_timeout = 1000ms) {
    if (where == Where::kRemote && kNodeBinary == nullptr) {
      GTEST_SKIP() << "built without examples/plexus-node";
    }
    where_ = where;
    NodeOptions options = node_options("t", {}, &logs_);
    options.tick_timeout = tick_timeout;
    t_ = start_node(std::move(options));
    auto zen = ZenMonitor::start(*t_, fast_options());
    if (!zen.ok()) throw std::runtime_error(zen.status().to_string());
    zen_ = std::move(*zen);
    inbox_.emplace(t_->runtime());
    if (where == Where::kRemote) {
      daemon_ = Daemon::start(Daemon::Options{.name = "d@127.0.0.1:0",
                                              .seeds = {t_->name()},
                                              .tick_timeout = tick_timeout,
                                              .extra_args = std::move(daemon_flags)});
      if (!wait_for_nodes(*t_, {daemon_->name()})) throw std::runtime_error("no daemon");
    }
  }

  void TearDown() override {
    if (daemon_) {
      EXPECT_EQ(daemon_->log().find("Sanitizer"), std::string::npos) << daemon_->log();
    }
    if (HasFailure()) {
      std::cerr << "--- test node:\n" << logs_.dump();
      if (daemon_) std::cerr << "--- daemon:\n" << daemon_->log();
    }
  }

  using ZenMonitor = zen::ZenMonitor;

  Inbox& inbox() { return *inbox_; }
  Runtime& rt() { return t_->runtime(); }
  const std::string& target_node() const {
    return where_ == Where::kRemote ? daemon_->name() : t_->name();
  }

  // `n` processes that wait for an ExitCommand, where the test says.
  std::vector<Pid> targets(size_t n) {
    std::vector<Pid> out;
    if (where_ == Where::kLocal) {
      for (size_t i = 0; i < n; ++i) out.push_back(rt().spawn(exiter));
      return out;
    }
    // Pipelined: every request, then every reply.
    for (size_t i = 0; i < n; ++i) {
      t_->spawn_request(inbox().pid(), daemon_->name(), "exiter", ExiterArgs{});
    }
    for (size_t i = 0; i < n; ++i) {
      SpawnReply r = must_receive<SpawnReply>(inbox());
      if (!r.status.ok()) throw std::runtime_error("spawn: " + r.status.to_string());
      out.push_back(r.pid);
    }
    return out;
  }
  Pid target() { return targets(1).front(); }

  Ref zmon(Pid target) {
    monitored_.insert(target);
    return zen_->monitor(inbox().context(), target);
  }

  zen::Down must_receive_zen_down(Ref ref) {
    std::optional<zen::Down> got;
    inbox().receive(match([ref](const zen::Down& d) { return d.ref == ref; },
                          [&](zen::Down& d) { got = std::move(d); }),
                    plexus::after(kWait, [] {}));
    if (!got) throw std::runtime_error("no zen Down for " + ref.to_string());
    return std::move(*got);
  }
  // Whether a zen Down for `ref` is in the mailbox now.
  bool has_zen_down(Ref ref) {
    return inbox().receive(
        match([ref](const zen::Down& d) { return d.ref == ref; }, [](zen::Down&) {}),
        plexus::after(0ms, [] {}));
  }

  // Returns once every monitor made so far is in place at the target's
  // Proxy: the Connector sent all its instructions (at least one subscribe
  // per target zmon() saw, plus `more` made elsewhere), and then the Proxy
  // answered a ping sent after them. A monitor of a local target is in place
  // when zen::monitor returns: there is nothing to wait for.
  void settle(uint64_t more = 0) {
    if (where_ == Where::kLocal) return;
    ASSERT_TRUE(eventually(rt(), [&] {
      zen::Metrics m = zen_->metrics();
      return m.connector_enqueue >= monitored_.size() + more &&
             m.connector_sweep == m.connector_enqueue;
    }));
    zen::Ping ping;
    t_->to_proto(inbox().pid(), ping.mutable_connector());
    ASSERT_TRUE(t_->send(target_node(), "plexus.zen.proxy", ping).ok());
    must_receive<zen::Pong>(inbox());
  }

  // Everything queued before it has been delivered: a new target's death
  // goes down the same pipeline behind whatever is still in it.
  void barrier() {
    Pid t = target();
    Ref ref = zmon(t);
    settle();
    rt().exit(t, ExitReason::kill());
    must_receive_zen_down(ref);
  }

  Where where_ = Where::kLocal;
  std::unordered_set<Pid> monitored_;  // by zmon()
  LogCapture logs_;
  std::unique_ptr<Node> t_;
  std::unique_ptr<ZenMonitor> zen_;  // destroyed before t_
  std::optional<Inbox> inbox_;       // destroyed before zen_
  std::unique_ptr<Daemon> daemon_;   // killed first
};

class ZenBlackBoxTest : public ZenTestBase, public ::testing::WithParamInterface<Where> {
 protected:
  void SetUp() override { start(GetParam()); }
};

TEST_P(ZenBlackBoxTest, EachWayToDieGivesExactlyOneDownWithTheReason) {
  struct Case {
    const char* name;
    std::function<void(Pid)> end;
    std::function<bool(const ExitReason&)> expected;
  };
  std::vector<Case> cases = {
      {"kill", [&](Pid p) { rt().exit(p, ExitReason::kill()); },
       [](const ExitReason& r) { return r == ExitReason::killed(); }},
      {"exit signal", [&](Pid p) { rt().exit(p, ExitReason::error("boom")); },
       [](const ExitReason& r) { return r == ExitReason::error("boom"); }},
      {"normal return", [&](Pid p) { (void)rt().send(p, command(ExitCommand::NORMAL)); },
       [](const ExitReason& r) { return r.is_normal(); }},
      {"error exit", [&](Pid p) { (void)rt().send(p, command(ExitCommand::ERROR, "bad state")); },
       [](const ExitReason& r) { return r == ExitReason::error("bad state"); }},
      {"throw", [&](Pid p) { (void)rt().send(p, command(ExitCommand::THROW, "thrown")); },
       [](const ExitReason& r) {
         return r.kind() == ExitReason::Kind::kException &&
                r.detail().find("thrown") != std::string_view::npos;
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Pid t = target();
    Ref ref = zmon(t);
    settle();
    c.end(t);
    zen::Down d = must_receive_zen_down(ref);
    EXPECT_EQ(d.pid, t);
    EXPECT_TRUE(c.expected(d.reason)) << d.reason;
    barrier();
    EXPECT_FALSE(has_zen_down(ref)) << "a second Down";
  }
}

TEST_P(ZenBlackBoxTest, ThreeMonitorsOnOnePidGiveThreeDowns) {
  Pid t = target();
  std::vector<Ref> refs = {zmon(t), zmon(t), zmon(t)};
  EXPECT_EQ(std::set<Ref>(refs.begin(), refs.end()).size(), 3u);
  settle();
  rt().exit(t, ExitReason::kill());
  for (Ref ref : refs) {
    zen::Down d = must_receive_zen_down(ref);
    EXPECT_EQ(d.pid, t);
    EXPECT_EQ(d.reason, ExitReason::killed());
  }
  barrier();
  for (Ref ref : refs) EXPECT_FALSE(has_zen_down(ref));
}

// settle() means the monitor is in place: a death after it reads as its
// reason, never as noproc. (A sweep used to be counted while its
// instructions still waited for the end of the Connector's turn, and a ping
// sent after the count could reach the Proxy first.) For a local target
// settle() waits for nothing: the death comes right after zen::monitor.
TEST_P(ZenBlackBoxTest, ADeathAfterSettleIsNeverNoproc) {
  for (int round = 0; round < 300; ++round) {
    Pid t = target();
    Ref ref = zmon(t);
    settle();
    rt().exit(t, ExitReason::kill());
    zen::Down d = must_receive_zen_down(ref);
    ASSERT_EQ(d.reason, ExitReason::killed()) << "round " << round;
  }
}

TEST_P(ZenBlackBoxTest, AnAlreadyDeadPidGivesNoproc) {
  Pid t = target();
  Ref plain = inbox().context().monitor(t);
  rt().exit(t, ExitReason::kill());
  must_receive_down(inbox(), plain);
  zen::Down d = must_receive_zen_down(zmon(t));
  EXPECT_EQ(d.pid, t);
  EXPECT_EQ(d.reason, ExitReason::noproc());
}

TEST_P(ZenBlackBoxTest, MonitorsBeforeAndAfterTheDeathGetTheReasonAndNoproc) {
  Pid t = target();
  Ref before = zmon(t);
  settle();
  rt().exit(t, ExitReason::error("gone"));
  EXPECT_EQ(must_receive_zen_down(before).reason, ExitReason::error("gone"));
  Ref after = zmon(t);
  EXPECT_EQ(must_receive_zen_down(after).reason, ExitReason::noproc());
}

TEST_P(ZenBlackBoxTest, DemonitorPreventsDelivery) {
  Pid t = target();
  Ref dropped = zmon(t);
  Ref kept = zmon(t);
  settle();
  EXPECT_TRUE(zen_->demonitor(inbox().context(), dropped));
  EXPECT_FALSE(zen_->demonitor(inbox().context(), dropped)) << "a second demonitor";
  rt().exit(t, ExitReason::kill());
  must_receive_zen_down(kept);
  barrier();
  EXPECT_FALSE(has_zen_down(dropped));
}

TEST_P(ZenBlackBoxTest, DemonitorWithFlushRemovesTheQueuedDownAndOnlyThatOne) {
  Pid t = target();
  Ref flushed = zmon(t);
  Ref kept = zmon(t);
  settle();
  uint64_t sent_before = zen_->metrics().dispatcher_processed;
  rt().exit(t, ExitReason::kill());
  // Both Downs are in the mailbox once the dispatcher sent them.
  ASSERT_TRUE(
      eventually(rt(), [&] { return zen_->metrics().dispatcher_processed == sent_before + 2; }));
  EXPECT_FALSE(zen_->demonitor(inbox().context(), flushed, plexus::Flush::kYes))
      << "the monitor had fired";
  EXPECT_FALSE(has_zen_down(flushed));
  EXPECT_EQ(must_receive_zen_down(kept).pid, t);
}

TEST_P(ZenBlackBoxTest, SeveralSubscribersOnSeveralTargetsGetExactlyTheirOwnDowns) {
  std::vector<Pid> ts = targets(4);
  // Subscriber i monitors targets i.. (so target 3 has three subscribers).
  std::vector<Pid> subs;
  std::map<Pid, std::multiset<Pid>> expected;
  for (size_t i = 0; i < 3; ++i) {
    std::vector<Pid> mine(ts.begin() + static_cast<long>(i), ts.end());
    subs.push_back(rt().spawn(subscriber, mine, inbox().pid()));
    expected[subs.back()] = std::multiset<Pid>(mine.begin(), mine.end());
  }
  for (size_t i = 0; i < subs.size(); ++i) must_receive<Ready>(inbox());
  settle(ts.size());
  for (Pid t : ts) rt().exit(t, ExitReason::kill());
  std::map<Pid, std::multiset<Pid>> got;
  for (int i = 0; i < 4 + 3 + 2; ++i) {
    Got g = must_receive<Got>(inbox());
    EXPECT_EQ(g.down.reason, ExitReason::killed());
    got[g.subscriber].insert(g.down.pid);
  }
  EXPECT_EQ(got, expected);
  barrier();
  EXPECT_FALSE(inbox().receive<Got>(0ms).has_value()) << "a Down too many";
}

TEST_P(ZenBlackBoxTest, ADeadSubscribersMonitorsAreRemovedEverywhere) {
  std::vector<Pid> ts = targets(100);
  Pid sub = rt().spawn(subscriber, ts, inbox().pid());
  must_receive<Ready>(inbox());
  settle(ts.size());
  EXPECT_EQ(zen_->metrics().local_references_size, 100u);
  rt().exit(sub, ExitReason::kill());
  EXPECT_TRUE(eventually(rt(), [&] { return zen_->metrics().local_references_size == 0; }));
  // The Connector unsubscribed: its instructions all went out.
  settle(2 * ts.size());
  if (where_ == Where::kLocal) {
    // The Connector ended its monitor of every target.
    EXPECT_TRUE(eventually(rt(), [&] {
      return std::all_of(ts.begin(), ts.end(), [&](Pid t) {
        auto info = rt().process_info(t);
        return info.ok() && info->monitored_by.empty();
      });
    }));
  }
  // And a death now reaches nobody.
  uint64_t sent_before = zen_->metrics().dispatcher_processed;
  for (Pid t : ts) rt().exit(t, ExitReason::kill());
  barrier();
  // The dispatcher counts after it sends: wait for the barrier's own.
  ASSERT_TRUE(eventually(rt(), [&] { return zen_->metrics().dispatcher_processed > sent_before; }));
  EXPECT_EQ(zen_->metrics().dispatcher_processed, sent_before + 1);
}

TEST_P(ZenBlackBoxTest, AReasonWithATenThousandEntryStructureIsTruncatedAndDelivered) {
  std::vector<Term> entries;
  for (int i = 0; i < 10'000; ++i) entries.push_back(Term::integer(i));
  Term huge = Term::tuple({Term::atom("badmatch"), Term::list(std::move(entries))});
  Pid t = target();
  Ref ref = zmon(t);
  settle();
  rt().exit(t, ExitReason::error(huge));
  zen::Down d = must_receive_zen_down(ref);
  EXPECT_EQ(d.reason,
            ExitReason::error(Term::tuple({Term::atom("badmatch"), Term::atom("truncated")})));
}

INSTANTIATE_TEST_SUITE_P(Targets, ZenBlackBoxTest, ::testing::Values(Where::kLocal, Where::kRemote),
                         where_name);

// ---- The target's node is a daemon.

class ZenRemoteTest : public ZenTestBase {};

TEST_F(ZenRemoteTest, KillMinus9FiresEveryMonitorOnceWithNodedown) {
  start(Where::kRemote);
  std::vector<Pid> ts = targets(50);
  std::set<Ref> refs;
  for (Pid t : ts) refs.insert(zmon(t));
  refs.insert(zmon(ts[0]));  // stacked
  settle();
  EXPECT_EQ(zen_->compatibility(daemon_->name()), zen::Compatibility::kCompatible);
  daemon_->process().kill_and_wait();
  std::set<Ref> got;
  for (size_t i = 0; i < refs.size(); ++i) {
    zen::Down d = must_receive<zen::Down>(inbox());
    EXPECT_TRUE(zen::is_nodedown(d.reason)) << d.reason;
    EXPECT_TRUE(got.insert(d.ref).second) << "two Downs for " << d.ref;
  }
  EXPECT_EQ(got, refs);
  EXPECT_TRUE(eventually(rt(), [&] {
    zen::Metrics m = zen_->metrics();
    return m.local_references_size == 0 && m.local_batch_length == 0;
  }));
  drain(inbox());
  EXPECT_EQ(inbox().context().message_queue_len(), 0u);
  EXPECT_EQ(zen_->compatibility(daemon_->name()), zen::Compatibility::kUnavailable);
  // A pid of the lost node is answered with nodedown too.
  EXPECT_TRUE(zen::is_nodedown(must_receive_zen_down(zmon(ts[1])).reason));
}

TEST_F(ZenRemoteTest, DownsAreThrottledToTheDemandAndAllArrive) {
  start(Where::kRemote, {"--zen-sweep-ms", "10"}, kHeavyTick);
  constexpr size_t kMonitored = 100'000;
  constexpr size_t kKilled = 10'000;
  std::vector<Pid> ts = targets(kMonitored);
  for (Pid t : ts) zmon(t);
  settle();
  ASSERT_TRUE(zen_->set_demand(10, 100ms).ok());
  std::unordered_set<Pid> killed(ts.begin(), ts.begin() + kKilled);
  for (size_t i = 0; i < kKilled; ++i) rt().exit(ts[i], ExitReason::kill());

  std::unordered_set<Pid> seen;
  auto take = [&](zen::Down& d) {
    EXPECT_TRUE(killed.count(d.pid)) << d.pid << " was not killed";
    EXPECT_EQ(d.reason, ExitReason::killed());
    EXPECT_TRUE(seen.insert(d.pid).second) << "two Downs for " << d.pid;
  };
  zen::Down first = must_receive<zen::Down>(inbox());
  take(first);
  // Ten intervals: about 100 more at 10 per 100 ms. The window is the
  // measurement (a rate), not a wait for something to happen.
  std::this_thread::sleep_for(1000ms);
  drain(inbox());
  size_t held = 1 + inbox().context().message_queue_len();
  EXPECT_GE(held, 50u);
  EXPECT_LE(held, 150u);

  ASSERT_TRUE(zen_->set_demand(100'000, kFast).ok());
  while (seen.size() < kKilled) {
    std::optional<zen::Down> d = inbox().receive<zen::Down>(kWait);
    ASSERT_TRUE(d.has_value()) << "only " << seen.size() << " Downs arrived";
    take(*d);
  }
  barrier();
  EXPECT_FALSE(inbox().receive<zen::Down>(0ms).has_value()) << "a Down too many";
}

TEST_F(ZenRemoteTest, AHundredThousandDeathsLeaveEveryComponentRunning) {
  start(Where::kRemote, {"--zen-sweep-ms", "10"}, kHeavyTick);
  constexpr size_t kMonitored = 100'000;
  std::vector<Pid> ts = targets(kMonitored);
  for (Pid t : ts) zmon(t);
  settle();
  for (Pid t : ts) rt().exit(t, ExitReason::kill());
  std::unordered_set<Pid> seen;
  while (seen.size() < kMonitored) {
    std::optional<zen::Down> d = inbox().receive<zen::Down>(kWait);
    ASSERT_TRUE(d.has_value()) << "only " << seen.size() << " Downs arrived";
    EXPECT_EQ(d->reason, ExitReason::killed());
    seen.insert(d->pid);
  }
  // This node's Local and Proxy, its Connector, the daemon's Proxy (it
  // answers) and the Batcher it runs for us (a new death comes back).
  EXPECT_TRUE(rt().alive(rt().whereis("plexus.zen.local")));
  EXPECT_TRUE(rt().alive(rt().whereis("plexus.zen.proxy")));
  barrier();
  EXPECT_FALSE(daemon_->process().wait(0ms).has_value()) << "the daemon died";
  ASSERT_TRUE(eventually(rt(), [&] { return zen_->metrics().dispatcher_processed > kMonitored; }));
  zen::Metrics m = zen_->metrics();
  EXPECT_EQ(m.local_references_size, 0u);
  EXPECT_EQ(m.dispatcher_processed, kMonitored + 1);
}

TEST_F(ZenRemoteTest, ANodeWithoutAZenMonitorIsWatchedWithPlainMonitors) {
  start(Where::kRemote, {"--zen", "off"});
  Pid t = target();
  Ref ref = zmon(t);
  ASSERT_TRUE(eventually(rt(), [&] {
    return zen_->compatibility(daemon_->name()) == zen::Compatibility::kIncompatible;
  }));
  rt().exit(t, ExitReason::error("plainly"));
  EXPECT_EQ(must_receive_zen_down(ref).reason, ExitReason::error("plainly"));
  // A target monitored while the node is known to be incompatible, then the
  // node dies.
  Pid t2 = target();
  Ref ref2 = zmon(t2);
  Ref ref3 = zmon(t2);
  Pid t3 = target();
  Ref plain = inbox().context().monitor(t3);
  daemon_->process().kill_and_wait();
  must_receive_down(inbox(), plain);
  EXPECT_TRUE(zen::is_nodedown(must_receive_zen_down(ref2).reason));
  EXPECT_TRUE(zen::is_nodedown(must_receive_zen_down(ref3).reason));
}

// ---- Settings and metrics.

TEST(ZenOptionsTest, InvalidSettingsAreRefusedWithTheirName) {
  struct Case {
    const char* name;
    std::function<void(zen::Options&)> spoil;
  };
  std::vector<Case> cases = {
      {"connector_sweep_interval", [](zen::Options& o) { o.connector_sweep_interval = 0ms; }},
      {"batcher_sweep_interval", [](zen::Options& o) { o.batcher_sweep_interval = -1ms; }},
      {"demand_interval", [](zen::Options& o) { o.demand_interval = 0ms; }},
      {"demand_amount", [](zen::Options& o) { o.demand_amount = 0; }},
      {"connector_chunk_size", [](zen::Options& o) { o.connector_chunk_size = 0; }},
      {"batcher_chunk_size", [](zen::Options& o) { o.batcher_chunk_size = 0; }},
      {"max_binary_size", [](zen::Options& o) { o.max_binary_size = 3; }},
      {"truncation_depth", [](zen::Options& o) { o.truncation_depth = 0; }},
      {"max_incompatible_backoff",
       [](zen::Options& o) { o.max_incompatible_backoff = o.incompatible_backoff - 1ms; }},
  };
  std::unique_ptr<Node> node = start_node("o");
  for (const Case& c : cases) {
    zen::Options o;
    c.spoil(o);
    auto started = zen::ZenMonitor::start(*node, o);
    ASSERT_FALSE(started.ok()) << c.name;
    EXPECT_EQ(started.status().code(), plexus::StatusCode::kInvalidArgument);
    EXPECT_NE(started.status().message().find(c.name), std::string::npos) << started.status();
  }
}

TEST(ZenOptionsTest, DefaultsAreZenMonitorsAndASecondStartIsRefused) {
  std::unique_ptr<Node> node = start_node("o");
  auto started = zen::ZenMonitor::start(*node);
  ASSERT_TRUE(started.ok()) << started.status();
  zen::ZenMonitor& z = **started;
  EXPECT_EQ(z.options().connector_sweep_interval, 100ms);
  EXPECT_EQ(z.options().connector_chunk_size, 5000u);
  EXPECT_EQ(z.options().batcher_sweep_interval, 100ms);
  EXPECT_EQ(z.options().batcher_chunk_size, 5000u);
  EXPECT_EQ(z.demand_interval(), 100ms);
  EXPECT_EQ(z.demand_amount(), 1000u);
  EXPECT_EQ(z.options().max_binary_size, 1024u);
  EXPECT_EQ(z.options().truncation_depth, 3);
  auto again = zen::ZenMonitor::start(*node);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), plexus::StatusCode::kAlreadyExists);
  EXPECT_FALSE(z.set_demand(0, 10ms).ok());
  EXPECT_FALSE(z.set_demand(10, 0ms).ok());
  ASSERT_TRUE(z.set_demand(7, 30ms).ok());
  EXPECT_EQ(z.demand_amount(), 7u);
  EXPECT_EQ(z.demand_interval(), 30ms);
}

class ZenMetricsTest : public ZenTestBase {
 protected:
  void SetUp() override { start(Where::kLocal); }
};

// The counters of both ends of a zen monitor: this node's Local, Connector
// and Dispatcher, and the Proxy and Batchers of the node its targets are on
// (a second node in this process, with a zen monitor of its own).
TEST_F(ZenMetricsTest, CountersFollowWhatHappensAndPrometheusTextHasEveryName) {
  std::unique_ptr<Node> peer = start_node("peer", {t_->name()});
  ASSERT_TRUE(wait_for_nodes(*t_, {peer->name()}));
  auto peer_zen = ZenMonitor::start(*peer, fast_options());
  ASSERT_TRUE(peer_zen.ok()) << peer_zen.status();
  std::vector<Pid> ts;
  for (int i = 0; i < 3; ++i) {
    plexus::PidProto p;
    peer->to_proto(peer->runtime().spawn(exiter), &p);
    ts.push_back(*t_->from_proto(p));
  }
  Ref a = zmon(ts[0]);
  zmon(ts[1]);
  zmon(ts[1]);
  zmon(ts[2]);
  zen_->demonitor(inbox().context(), a);
  // Subscribe to 3 targets, unsubscribe from 1: sent, and applied there.
  ASSERT_TRUE(eventually(rt(), [&] {
    zen::Metrics m = zen_->metrics();
    return m.connector_enqueue == 4 && m.connector_sweep == 4;
  }));
  ASSERT_TRUE(eventually(rt(), [&] { return (*peer_zen)->metrics().proxy_subscribers_size == 2; }));
  zen::Metrics m = zen_->metrics();
  EXPECT_EQ(m.local_monitor, 4u);
  EXPECT_EQ(m.local_demonitor, 1u);
  EXPECT_EQ(m.local_references_size, 3u);
  rt().exit(ts[1], ExitReason::kill());
  rt().exit(ts[2], ExitReason::kill());
  for (int i = 0; i < 3; ++i) must_receive<zen::Down>(inbox());
  // Counters move just after the sends they count.
  ASSERT_TRUE(eventually(rt(), [&] {
    return zen_->metrics().dispatcher_processed == 3 && (*peer_zen)->metrics().batcher_sweep == 2;
  }));
  m = zen_->metrics();
  zen::Metrics there = (*peer_zen)->metrics();
  EXPECT_EQ(there.batcher_enqueue, 2u);
  EXPECT_EQ(there.batcher_sweep, 2u);
  EXPECT_EQ(there.proxy_subscribers_size, 0u);
  EXPECT_EQ(m.local_enqueue, 3u);
  EXPECT_EQ(m.dispatcher_delivered, 3u);
  EXPECT_EQ(m.dispatcher_processed, 3u);
  EXPECT_EQ(m.local_batch_length, 0u);
  EXPECT_EQ(m.local_references_size, 0u);

  std::string text = m.to_prometheus();
  for (const char* name :
       {"zen_monitor_local_monitor 4", "zen_monitor_local_demonitor 1",
        "zen_monitor_local_enqueue 3", "zen_monitor_local_batch_length 0",
        "zen_monitor_local_message_queue_len ", "zen_monitor_local_references_size 0",
        "zen_monitor_local_connector_enqueue 4", "zen_monitor_local_connector_sweep 4",
        "zen_monitor_local_dispatcher_events_delivered 3",
        "zen_monitor_local_dispatcher_events_processed 3", "zen_monitor_proxy_message_queue_len ",
        "zen_monitor_proxy_subscribers_size 0", "zen_monitor_proxy_batcher_enqueue 0",
        "zen_monitor_proxy_batcher_sweep 0", "# TYPE zen_monitor_local_monitor counter",
        "# TYPE zen_monitor_local_batch_length gauge"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name << " not in\n" << text;
  }
  std::string there_text = there.to_prometheus();
  for (const char* name :
       {"zen_monitor_proxy_batcher_enqueue 2", "zen_monitor_proxy_batcher_sweep 2"}) {
    EXPECT_NE(there_text.find(name), std::string::npos) << name << " not in\n" << there_text;
  }
  peer_zen->reset();
}

// A node that starts its zen monitor late: found incompatible first, then,
// at the ping after the backoff, compatible. Monitors from either time work.
TEST_F(ZenMetricsTest, ANodeThatStartsItsZenMonitorLateBecomesCompatible) {
  std::unique_ptr<Node> late = start_node("late", {t_->name()});
  ASSERT_TRUE(wait_for_nodes(*t_, {late->name()}));
  Pid early_target = late->runtime().spawn(exiter);
  plexus::PidProto p;
  late->to_proto(early_target, &p);
  Pid plain_target = *t_->from_proto(p);
  Ref early = zmon(plain_target);
  ASSERT_TRUE(eventually(rt(), [&] {
    return zen_->compatibility(late->name()) == zen::Compatibility::kIncompatible;
  }));
  auto late_zen = ZenMonitor::start(*late, fast_options());
  ASSERT_TRUE(late_zen.ok()) << late_zen.status();
  // The next ping (after fast_options' 500 ms backoff) finds the Proxy. A
  // new monitor there pings at once too.
  ASSERT_TRUE(eventually(
      rt(), [&] { return zen_->compatibility(late->name()) == zen::Compatibility::kCompatible; }));
  late->to_proto(late->runtime().spawn(exiter), &p);
  Pid second_here = *t_->from_proto(p);
  Ref later = zmon(second_here);
  ASSERT_TRUE(eventually(rt(), [&] { return (*late_zen)->metrics().proxy_subscribers_size == 1; }));
  rt().exit(plain_target, ExitReason::error("early"));
  rt().exit(second_here, ExitReason::error("later"));
  EXPECT_EQ(must_receive_zen_down(early).reason, ExitReason::error("early"));
  EXPECT_EQ(must_receive_zen_down(later).reason, ExitReason::error("later"));
}

}  // namespace
}  // namespace plexus_test

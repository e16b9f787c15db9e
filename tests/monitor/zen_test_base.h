// The zen monitor tests' shared parts: fast settings, the exiter and
// subscriber processes, and ZenTestBase, the fixture with a test node, its
// zen monitor and, for remote targets, a plexus-node daemon, plus the helpers
// that watch a zen monitor settle.
#pragma once

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
#include "plexus/zen/zen_monitor.h"

namespace plexus_test {

namespace zen = plexus::zen;
using plexus::match;
using plexus::SpawnReply;
using plexus::Term;
using plexus_node::ExitCommand;
using plexus_node::ExiterArgs;
using Clock = std::chrono::steady_clock;

inline constexpr std::chrono::milliseconds kFast = 10ms;
inline constexpr std::chrono::milliseconds kHeavyTick = 10'000ms;

inline zen::Options fast_options() {
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

inline std::string where_name(const ::testing::TestParamInfo<Where>& info) {
  return info.param == Where::kLocal ? "LocalTarget" : "RemoteTarget";
}

// A process of the test node that exits as an ExitCommand says, as the
// daemon's "exiter" does.
inline Task<> exiter(Context self) {
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
inline Task<> subscriber(Context self, std::vector<Pid> targets, Pid report) {
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

}  // namespace plexus_test

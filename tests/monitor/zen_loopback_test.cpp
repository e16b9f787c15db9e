// The zen monitor between nodes of a loopback network (plexus/node/loopback.h):
// no sockets and no daemon, in virtual time, so sweeps, throttling and a lost
// node are exact. The black-box cases against a real daemon are in
// zen_monitor_test.cpp.
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node_test_support.h"
#include "plexus/node/loopback.h"
#include "plexus/node/node.h"
#include "plexus/zen/zen_monitor.h"

namespace {

using namespace plexus_test;
using plexus::LoopbackNetwork;
namespace zen = plexus::zen;

class ZenLoopbackTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* base : {"a", "b"}) {
      NodeOptions o;
      o.name = std::string(base) + "@loop:0";
      o.cookie = kCookie;
      o.loopback = &net_;
      o.runtime = runtime_options(Sched::kDeterministic, &logs_);
      nodes_.push_back(start_node(o));
      zen::Options z;
      z.connector_sweep_interval = 10ms;
      z.batcher_sweep_interval = 10ms;
      auto started = zen::ZenMonitor::start(*nodes_.back(), z);
      ASSERT_TRUE(started.ok()) << started.status();
      zens_.push_back(std::move(*started));
    }
  }
  void TearDown() override {
    zens_.clear();
    nodes_.clear();
  }
  Node& a() { return *nodes_[0]; }
  Node& b() { return *nodes_[1]; }
  // `pid` of b, as a names it.
  Pid on_a(Pid pid) {
    plexus::PidProto proto;
    b().to_proto(pid, &proto);
    return *a().from_proto(proto);
  }
  // A process on a that zen-monitors each of `targets` and keeps the Downs.
  Pid watch(const std::vector<Pid>& targets, std::vector<zen::Down>* downs) {
    return a().runtime().spawn([targets, downs](Context self) -> Task<> {
      for (Pid t : targets) zen::ZenMonitor::of(self)->monitor(self, t);
      for (;;) downs->push_back(co_await self.receive<zen::Down>());
    });
  }

  LogCapture logs_;
  LoopbackNetwork net_;
  std::vector<std::unique_ptr<Node>> nodes_;
  std::vector<std::unique_ptr<zen::ZenMonitor>> zens_;
};

Task<> idle(Context self) { co_await self.receive<int>(); }

TEST_F(ZenLoopbackTest, ADeathOnAnotherNodeComesBackWithItsReason) {
  Pid target = b().runtime().spawn(idle);
  std::vector<zen::Down> downs;
  watch({on_a(target)}, &downs);
  net_.advance(100ms);  // the subscription is swept over
  EXPECT_TRUE(downs.empty());
  EXPECT_EQ(zens_[0]->compatibility(b().name()), zen::Compatibility::kCompatible);
  b().runtime().exit(target, ExitReason::error("boom"));
  ASSERT_TRUE(net_.run_until([&] { return !downs.empty(); }, 1s));
  EXPECT_EQ(downs[0].pid, on_a(target));
  EXPECT_EQ(downs[0].reason, ExitReason::error("boom"));
}

TEST_F(ZenLoopbackTest, ACutGivesNodedownForEveryMonitoredProcessAtTheDemandRate) {
  std::vector<Pid> targets;
  for (int i = 0; i < 50; ++i) targets.push_back(on_a(b().runtime().spawn(idle)));
  std::vector<zen::Down> downs;
  watch(targets, &downs);
  net_.advance(100ms);
  ASSERT_TRUE(zens_[0]->set_demand(10, 100ms).ok());
  net_.cut(a().name(), b().name());
  net_.advance(250ms);
  // At most 10 a 100 ms interval, however many are queued.
  EXPECT_GE(downs.size(), 10u);
  EXPECT_LE(downs.size(), 30u);
  ASSERT_TRUE(net_.run_until([&] { return downs.size() == targets.size(); }, 2s));
  for (const zen::Down& d : downs) EXPECT_TRUE(zen::is_nodedown(d.reason)) << d;
  net_.advance(1s);
  EXPECT_EQ(downs.size(), targets.size()) << "one Down per monitor, no more";
}

}  // namespace

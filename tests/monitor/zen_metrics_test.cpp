// The zen monitor's settings (each bad one refused by name; the defaults) and
// its metrics at both ends of a monitor.
#include <gtest/gtest.h>

#include <functional>

#include "zen_test_base.h"

namespace plexus_test {
namespace {

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

  // The same figures in the runtime's registry, which /metrics serves.
  plexus::MetricsWriter writer;
  rt().metrics().collect(writer);
  EXPECT_EQ(writer.rejected(), 0u);
  std::string text = writer.prometheus();
  for (const char* name :
       {"zen_monitor_local_monitor_total 4", "zen_monitor_local_demonitor_total 1",
        "zen_monitor_local_enqueue_total 3", "zen_monitor_local_batch_length 0",
        "zen_monitor_local_message_queue_len ", "zen_monitor_local_references_size 0",
        "zen_monitor_local_connector_enqueue_total 4", "zen_monitor_local_connector_sweep_total 4",
        "zen_monitor_local_dispatcher_events_delivered_total 3",
        "zen_monitor_local_dispatcher_events_processed_total 3",
        "zen_monitor_proxy_message_queue_len ", "zen_monitor_proxy_subscribers_size 0",
        "zen_monitor_proxy_batcher_enqueue_total 0", "zen_monitor_proxy_batcher_sweep_total 0",
        "# TYPE zen_monitor_local_monitor_total counter",
        "# TYPE zen_monitor_local_batch_length gauge"}) {
    EXPECT_NE(text.find(name), std::string::npos) << name << " not in\n" << text;
  }
  plexus::MetricsWriter there_writer;
  there.write(there_writer);
  EXPECT_EQ(there_writer.value("zen_monitor_proxy_batcher_enqueue_total"), 2);
  EXPECT_EQ(there_writer.value("zen_monitor_proxy_batcher_sweep_total"), 2);
  // A stopped monitor leaves the registry.
  zen_.reset();
  plexus::MetricsWriter after;
  rt().metrics().collect(after);
  EXPECT_FALSE(after.value("zen_monitor_local_monitor_total").has_value());
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

// Metrics: the writer's text format, the registry's collectors, and what a
// runtime reports of itself.
#include "plexus/metrics.h"

#include <gtest/gtest.h>

#include <thread>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::MetricsRegistry;
using plexus::MetricsWriter;

struct Note {
  std::string text;
};

TEST(MetricsWriterTest, GroupsSamplesByFamilyWithOneHelpAndType) {
  MetricsWriter w;
  w.counter("b_bytes_total", "bytes sent", 10, {{"peer", "x"}});
  w.gauge("a_queue", "frames queued", 3);
  w.counter("b_bytes_total", "bytes sent", 20, {{"peer", "y"}});
  EXPECT_EQ(w.prometheus({{"node", "n@h:1"}}),
            "# HELP a_queue frames queued\n"
            "# TYPE a_queue gauge\n"
            "a_queue{node=\"n@h:1\"} 3\n"
            "# HELP b_bytes_total bytes sent\n"
            "# TYPE b_bytes_total counter\n"
            "b_bytes_total{node=\"n@h:1\",peer=\"x\"} 10\n"
            "b_bytes_total{node=\"n@h:1\",peer=\"y\"} 20\n");
  EXPECT_EQ(w.value("b_bytes_total", {{"peer", "y"}}), 20);
  EXPECT_EQ(w.value("b_bytes_total"), 10);
  EXPECT_FALSE(w.value("b_bytes_total", {{"peer", "z"}}).has_value());
  EXPECT_EQ(w.rejected(), 0u);
}

TEST(MetricsWriterTest, EscapesLabelValuesAndHelp) {
  MetricsWriter w;
  w.gauge("g", "a \\ b\nc", 1.5, {{"reason", "say \"hi\"\\\n"}});
  EXPECT_EQ(w.prometheus(),
            "# HELP g a \\\\ b\\nc\n"
            "# TYPE g gauge\n"
            "g{reason=\"say \\\"hi\\\"\\\\\\n\"} 1.5\n");
}

TEST(MetricsWriterTest, RejectsBadNamesCountersWithoutTotalAndKindClashes) {
  MetricsWriter w;
  w.counter("frames", "no _total", 1);
  w.gauge("9lives", "starts with a digit", 1);
  w.gauge("has-dash", "a dash", 1);
  w.gauge("ok", "a label name with a colon", 1, {{"a:b", "v"}});
  w.gauge("x_total", "first a gauge", 1);
  w.counter("x_total", "then a counter", 2);
  EXPECT_EQ(w.rejected(), 5u);
  EXPECT_EQ(w.prometheus(), "# HELP x_total first a gauge\n# TYPE x_total gauge\nx_total 1\n");
}

TEST(MetricsWriterTest, WritesSpecialValuesAsTheFormatSpells) {
  MetricsWriter w;
  w.gauge("inf", "", std::numeric_limits<double>::infinity());
  w.gauge("nan", "", std::numeric_limits<double>::quiet_NaN());
  w.gauge("big", "", 1e20);
  std::string text = w.prometheus();
  EXPECT_NE(text.find("inf +Inf\n"), std::string::npos) << text;
  EXPECT_NE(text.find("nan NaN\n"), std::string::npos) << text;
  EXPECT_NE(text.find("big 1e+20\n"), std::string::npos) << text;
}

TEST(MetricsRegistryTest, CollectsInOrderUntilARegistrationGoes) {
  MetricsRegistry registry;
  auto first = registry.add([](MetricsWriter& w) { w.gauge("first", "", 1); });
  std::optional<MetricsRegistry::Registration> second =
      registry.add([](MetricsWriter& w) { w.gauge("second", "", 2); });
  {
    MetricsWriter w;
    registry.collect(w);
    EXPECT_EQ(w.value("first"), 1);
    EXPECT_EQ(w.value("second"), 2);
  }
  second.reset();
  MetricsRegistry::Registration moved = std::move(first);
  first.reset();  // moved from: removes nothing
  MetricsWriter w;
  registry.collect(w);
  EXPECT_EQ(w.value("first"), 1);
  EXPECT_FALSE(w.value("second").has_value());
}

// A registration removed while another thread collects waits for that
// collection: the collector never runs after reset() returns.
TEST(MetricsRegistryTest, ResetWaitsForACollectionInProgress) {
  MetricsRegistry registry;
  std::atomic<bool> inside{false}, release{false}, state_alive{true}, ran_dead{false};
  auto registration = registry.add([&](MetricsWriter&) {
    inside = true;
    while (!release) std::this_thread::yield();
    if (!state_alive) ran_dead = true;
  });
  std::thread collector([&] {
    MetricsWriter w;
    registry.collect(w);
  });
  while (!inside) std::this_thread::yield();
  std::thread remover([&] {
    registration.reset();
    state_alive = false;
  });
  release = true;
  collector.join();
  remover.join();
  MetricsWriter w;
  registry.collect(w);  // nothing left to run
  EXPECT_FALSE(ran_dead);
}

class RuntimeMetricsTest : public SchedTest {
 protected:
  MetricsWriter collect() {
    MetricsWriter w;
    rt().metrics().collect(w);
    EXPECT_EQ(w.rejected(), 0u);
    return w;
  }
};

TEST_P(RuntimeMetricsTest, CountsProcessesAndTimers) {
  Inbox inbox(rt());
  double before = *collect().value("plexus_processes");
  Pid p = rt().spawn([](Context self) -> Task<> { co_await self.receive([](const Note&) {}); });
  EXPECT_EQ(*collect().value("plexus_processes"), before + 1);
  double timers = *collect().value("plexus_timers");
  plexus::TimerRef t = rt().send_after(p, std::chrono::hours(1), Note{"later"});
  EXPECT_EQ(*collect().value("plexus_timers"), timers + 1);
  ASSERT_TRUE(rt().cancel_timer(t).has_value());
  EXPECT_EQ(*collect().value("plexus_timers"), timers);
  rt().send(p, Note{"now"});
  EXPECT_TRUE(eventually(rt(), [&] { return !rt().alive(p); }));
  EXPECT_TRUE(eventually(rt(), [&] { return *collect().value("plexus_processes") == before; }));
  EXPECT_EQ(*collect().value("plexus_process_limit"), rt().options().max_processes);
}

// A threaded runtime reports its schedulers and the time they spent on
// turns, which grows while processes work.
TEST(RuntimeMetricsThreadsTest, SchedulerBusyTimeGrowsWithWork) {
  plexus::RuntimeOptions options;
  options.schedulers = 2;
  plexus::Runtime rt(options);
  auto busy = [&] {
    MetricsWriter w;
    rt.metrics().collect(w);
    EXPECT_EQ(w.value("plexus_schedulers"), 2);
    return *w.value("plexus_scheduler_busy_seconds_total", {{"scheduler", "0"}}) +
           *w.value("plexus_scheduler_busy_seconds_total", {{"scheduler", "1"}});
  };
  double before = busy();
  Inbox inbox(rt);
  Pid to = inbox.pid();
  // About 20 ms of work, in 1000 turns.
  Pid worker = rt.spawn([to](Context self) -> Task<> {
    for (int i = 0; i < 1000; ++i) {
      auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(20);
      while (std::chrono::steady_clock::now() < until) {
      }
      self.send(self.self(), Note{"again"});
      co_await self.receive([](const Note&) {});
    }
    self.send(to, Note{"done"});
  });
  ASSERT_TRUE(inbox.receive<Note>(kWait).has_value());
  EXPECT_TRUE(eventually(rt, [&] { return !rt.alive(worker); }));
  // Flushed when the workers go idle.
  EXPECT_TRUE(eventually(rt, [&] { return busy() - before >= 0.015; }))
      << "busy " << busy() - before << " s";
}

PLEXUS_INSTANTIATE_SCHEDULERS(RuntimeMetricsTest);

}  // namespace
}  // namespace plexus_test

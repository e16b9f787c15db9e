// The timing wheel: every timer fires exactly at its tick, across levels.
#include "timer_wheel.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <random>
#include <vector>

namespace plexus_test {
namespace {

using plexus::detail::TimerWheel;
using Node = TimerWheel::Node;

std::unique_ptr<Node> make_node(uint64_t id, int64_t expiry) {
  auto node = std::make_unique<Node>();
  node->id = id;
  node->expiry = expiry;
  return node;
}

// A wheel whose clock stands at `now`, holding one timer (id 1) due at
// `expiry`, and the list that advance() fills with what fires.
struct OneTimer {
  OneTimer(int64_t now, int64_t expiry) : wheel(now), node(make_node(1, expiry)) {
    wheel.insert(node.get());
  }

  TimerWheel wheel;
  std::unique_ptr<Node> node;
  std::vector<Node*> out;
};

TEST(TimerWheelTest, FiresAtTheExpiryTickNotBefore) {
  OneTimer t(0, 100);
  t.wheel.advance(99, t.out);
  EXPECT_TRUE(t.out.empty());
  t.wheel.advance(100, t.out);
  ASSERT_EQ(t.out.size(), 1u);
  EXPECT_EQ(t.out[0]->id, 1u);
  EXPECT_EQ(t.wheel.size(), 0u);
}

TEST(TimerWheelTest, PastExpiryFiresAtTheNextAdvance) {
  OneTimer t(500, 10);
  t.wheel.advance(500, t.out);
  EXPECT_EQ(t.out.size(), 1u);
}

TEST(TimerWheelTest, RemovedTimerNeverFires) {
  TimerWheel wheel(0);
  auto a = make_node(1, 5000);
  auto b = make_node(2, 5000);
  wheel.insert(a.get());
  wheel.insert(b.get());
  wheel.remove(a.get());
  std::vector<Node*> out;
  wheel.advance(10000, out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0]->id, 2u);
}

TEST(TimerWheelTest, NextEventIsNeverLaterThanTheNextExpiry) {
  OneTimer t(0, 70000);
  int64_t now = 0;
  // Jumping from event to event (as the timer thread does) reaches the expiry.
  while (t.out.empty()) {
    auto next = t.wheel.next_event();
    ASSERT_TRUE(next.has_value());
    ASSERT_LE(*next, 70000);
    ASSERT_GE(*next, now);
    now = *next;
    t.wheel.advance(now, t.out);
  }
  EXPECT_EQ(now, 70000);
  EXPECT_FALSE(t.wheel.next_event().has_value());
}

// Random expiries over all levels, advanced in random steps: each timer
// fires in the step that crosses its expiry, and only once.
TEST(TimerWheelTest, RandomTimersFireExactlyOnceAtTheirTick) {
  std::mt19937_64 rng(7);
  TimerWheel wheel(0);
  std::vector<std::unique_ptr<Node>> nodes;
  for (uint64_t i = 0; i < 20000; ++i) {
    int64_t expiry = static_cast<int64_t>(rng() % (int64_t{1} << (6 + rng() % 24)));
    nodes.push_back(make_node(i, expiry));
    wheel.insert(nodes.back().get());
  }
  std::vector<int> fired(nodes.size(), 0);
  int64_t now = 0;
  std::vector<Node*> out;
  while (wheel.size() > 0) {
    int64_t step = static_cast<int64_t>(rng() % 5000);
    int64_t before = now;
    now += step;
    out.clear();
    wheel.advance(now, out);
    for (Node* n : out) {
      ++fired[n->id];
      EXPECT_LE(n->expiry, now);
      EXPECT_GT(n->expiry, before == 0 ? -1 : before);
    }
  }
  for (size_t i = 0; i < fired.size(); ++i) EXPECT_EQ(fired[i], 1) << "timer " << i;
}

}  // namespace
}  // namespace plexus_test

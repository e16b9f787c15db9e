// Hot swaps under random schedules (issue "The hub, resilient": "through a
// hot swap, numbered messages from each sender arrive complete and in
// order"): members join, drain and leave, start again and are killed while a
// sender sends numbered messages to every child through the hub, over a
// network that delays and duplicates messages. Each child must take each
// number once the sender's earlier ones, never one below a number it took;
// a number may be taken twice only where the network duplicated it; and a
// number may be lost only where a kill could have lost it: sent less than
// kLossReach before a kill, and missed after it. A drain loses nothing.
// After the quiet every child has taken the last number it was sent, once,
// and the hub's guarantees hold. One seed is one run (PLEXUS_SIM_SEED=N
// replays one with its protocol trace; PLEXUS_SIM_SEEDS=N runs N).
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <vector>

#include "hub_cluster.h"
#include "plexus/strategies/migration.h"
#include "plexus/strategies/synchronization.h"
#include "sim_seeds.h"

namespace {

using namespace plexus_test;

// How long before a kill a message to a child may have been sent and still
// be lost with it: what was on its way to the killed node, in its mailbox or
// being forwarded from it, and what a sender sent before its node heard of
// the kill (a connection's close, at once on the loopback, and the delay of
// the messages behind it).
constexpr int64_t kLossReach = 1000;

constexpr int kChildren = 40;

hub::HubConfig config_of(uint64_t seed) {
  hub::HubConfig c = fast_config("swap");
  c.migration = std::make_shared<plexus::strategies::HotSwap>();
  c.migr_base_timeout = 2000ms;
  if (seed % 2 == 1) {
    c.synchronization = std::make_shared<plexus::strategies::Gossip>(
        *plexus::strategies::Gossip::make(2, 500ms, 10s));
  }
  return c;
}

// What the seeds did, summed: hot swaps whose state came, and gaps a kill
// explained.
struct Tally {
  size_t handed_over = 0;
  size_t lost_to_kills = 0;
};

std::string run(uint64_t seed, LogCapture* logs, Tally* tally) {
  std::mt19937_64 rng(seed);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  HubCluster cluster(config_of(seed), logs,
                     logs ? plexus::LogLevel::kDebug : plexus::LogLevel::kNone);
  plexus::LoopbackFaults faults;
  faults.seed = seed;
  faults.max_delay = std::chrono::milliseconds(pick(20));
  faults.duplicate = pick(2) ? 0.05 : 0;
  cluster.net().set_faults(faults);
  size_t nodes = 3 + pick(2);
  for (size_t i = 0; i < nodes; ++i) cluster.add(std::string(1, static_cast<char>('a' + i)));
  if (std::string why = cluster.settle(); !why.empty()) return "before the schedule: " + why;
  auto started = cluster.hub(0).start_children(worker_specs("s", kChildren), {.awaitable = true});
  if (!started.ok()) return started.status().to_string();
  cluster.net().run_until([&] { return started->ready(); }, 30s);
  if (!started->ready() || started->await(0ms)->started.size() != kChildren) {
    return "the children did not all start";
  }

  // The sender runs on member 0, which the schedule never stops or kills.
  std::vector<std::string> ids;
  for (int i = 0; i < kChildren; ++i) ids.push_back("s" + std::to_string(i));
  Sender sender{ids};
  sender.clock = &cluster.net();
  cluster.node(0).runtime().spawn(
      [&sender, &hub = cluster.hub(0)](Context self) -> Task<> { co_await sender.run(self, hub); });

  std::vector<int64_t> kills;
  size_t gaps_seen = 0;
  std::string why;
  // A gap the kills do not explain, seen by `now`.
  auto look = [&](int64_t now) {
    const std::vector<Running::Gap>& gaps = cluster.running().gaps;
    for (; gaps_seen < gaps.size() && why.empty(); ++gaps_seen) {
      const Running::Gap& g = gaps[gaps_seen];
      int64_t went = sender.sent_at[g.id].at(static_cast<size_t>(g.missing - 1));
      bool killed = std::any_of(kills.begin(), kills.end(),
                                [&](int64_t k) { return went - kLossReach <= k && k <= now; });
      if (!killed) {
        why = g.id + " lost " + std::to_string(g.missing) + " to " + std::to_string(g.next - 1) +
              " (the first sent at " + std::to_string(went) + " ms, the gap seen by " +
              std::to_string(now) + " ms, no kill between)";
      }
    }
  };
  auto advance = [&](int64_t ms) {
    for (; ms > 0 && why.empty(); ms -= 20) {
      cluster.net().advance(std::chrono::milliseconds(std::min<int64_t>(ms, 20)));
      look(cluster.net().now_ms());
    }
  };
  auto note = [&](const std::string& what) {
    if (logs) {
      logs->note(plexus::LogLevel::kInfo,
                 "sim: " + what + " at " + std::to_string(cluster.net().now_ms()) + " ms");
    }
  };

  for (int step = 0; step < 16 && why.empty(); ++step) {
    std::vector<size_t> live = cluster.live();
    std::vector<size_t> others(live.begin() + 1, live.end());  // member 0 stays
    std::vector<size_t> down;
    for (size_t i = 1; i < cluster.size(); ++i) {
      if (!cluster.up(i)) down.push_back(i);
    }
    switch (pick(5)) {
      case 0:  // a new member joins
        if (cluster.size() < 6) {
          note("join");
          cluster.add(std::string(1, static_cast<char>('a' + cluster.size())));
        }
        break;
      case 1: {  // a graceful stop: the member drains, then its node ends
        if (others.size() < 2) break;
        size_t at = others[pick(others.size())];
        note("drain " + cluster.node(at).name());
        hub::Future<plexus::Status> left = cluster.hub(at).stop();
        cluster.net().run_until([&] { return left.ready(); }, 60s);
        look(cluster.net().now_ms());
        if (!left.ready() || !left.await(0ms).ok()) return "the drain of a member did not end";
        cluster.crash(at);
        break;
      }
      case 2: {  // kill -9
        if (others.size() < 2) break;
        size_t at = others[pick(others.size())];
        note("kill " + cluster.node(at).name());
        kills.push_back(cluster.net().now_ms());
        cluster.crash(at);
        break;
      }
      default:  // a member that drained or was killed starts again
        if (down.empty()) break;
        note("restart");
        cluster.restart(down[pick(down.size())]);
        break;
    }
    advance(static_cast<int64_t>(pick(800)));
  }
  if (!why.empty()) return why;

  // Quiet: the faults end, the cluster settles; the sender goes on a little
  // and stops, and every number it sent has come.
  cluster.net().set_faults({});
  if (std::string settled = cluster.settle(60s); !settled.empty()) return settled;
  advance(200);
  sender.stop = true;
  cluster.net().run_until([&] { return sender.stopped; }, 30s);
  cluster.net().run_until(
      [&] {
        for (const std::string& id : ids) {
          if (cluster.running().last_taken(id) != sender.sent[id]) return false;
        }
        return true;
      },
      30s);
  look(cluster.net().now_ms());
  if (!why.empty()) return why;
  if (!cluster.running().out_of_order.empty()) {
    return "out of order: " + cluster.running().out_of_order[0];
  }
  if (faults.duplicate == 0 && !cluster.running().repeated.empty()) {
    return "repeated with no duplicate on the network: " + cluster.running().repeated[0];
  }
  for (const std::string& id : ids) {
    int64_t got = cluster.running().last_taken(id);
    if (got != sender.sent[id]) {
      return id + " took " + std::to_string(got) + " of the " + std::to_string(sender.sent[id]) +
             " numbers sent";
    }
  }
  tally->handed_over += cluster.running().handed_over;
  tally->lost_to_kills += cluster.running().gaps.size();
  std::set<std::string> expected(ids.begin(), ids.end());
  return cluster.check(&expected);
}

TEST(HubHotSwapSimulation, RandomJoinsDrainsAndKillsLoseNoMessageAKillDoesNotExplain) {
  // Seeds beyond the first 100 that once failed (110: a forwarder whose new
  // copy died with its node was reported as the child; 699: a drain passed
  // by the children moving onto its member; 815: an anti-entropy answer
  // meant for a node's previous incarnation made the new one, alone in its
  // first view, start every child afresh).
  SimSeeds seeds = sim_seeds(100, {110, 699, 815});
  Tally tally;
  ASSERT_NO_FATAL_FAILURE(run_sim_seeds(
      seeds, [&](uint64_t seed, LogCapture* logs) { return run(seed, logs, &tally); }));
  std::cout << "hot swaps: " << tally.handed_over
            << " handed over; gaps after kills: " << tally.lost_to_kills << "\n";
  // Joins, drains and restarts move children by hot swap in most runs.
  if (seeds.count >= 20) EXPECT_GT(tally.handed_over, seeds.count * 5);
}

}  // namespace

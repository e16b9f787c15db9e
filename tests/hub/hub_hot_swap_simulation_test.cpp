// Hot swaps under random schedules (issue "The hub, resilient": "through a
// hot swap, numbered messages from each sender arrive complete and in
// order"): members join, drain and leave, start again and are killed while a
// sender sends numbered messages to every child through the hub, over a
// network that delays and duplicates messages. Each child must take each
// number once the sender's earlier ones, never one below a number it took;
// a number may be taken twice only where the network duplicated it; and a
// number may be lost only where a kill could have lost it: sent less than
// kLossReach before a kill, and missed after it. A drain loses nothing. A
// second test sends from the first member that joins too.
// After the quiet every child has taken the last number it was sent, once,
// and the hub's guarantees hold. One seed is one run (PLEXUS_SIM_SEED=N
// replays one with its protocol trace; PLEXUS_SIM_SEEDS=N runs N).
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
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
  size_t sent_by_joiners = 0;  // numbers a member sent that joined during the run
};

// With `joiner_sends`, the first member that joins sends numbered messages
// too, from the moment it joins (before it has a record of any child, and
// while the moves its join makes are under way), and the schedule never
// stops or kills it.
std::string run(uint64_t seed, LogCapture* logs, Tally* tally, bool joiner_sends = false) {
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

  // A sender runs on member 0, which the schedule never stops or kills.
  std::vector<std::string> ids;
  for (int i = 0; i < kChildren; ++i) ids.push_back("s" + std::to_string(i));
  std::vector<std::unique_ptr<Sender>> senders;
  std::set<size_t> kept;  // the members that send
  auto send_from = [&](size_t at) {
    Sender& sender = *senders.emplace_back(std::make_unique<Sender>(ids));
    sender.clock = &cluster.net();
    kept.insert(at);
    cluster.node(at).runtime().spawn([&sender, &hub = cluster.hub(at)](Context self) -> Task<> {
      co_await sender.run(self, hub);
    });
  };
  send_from(0);
  auto sender_of = [&](const std::string& key) -> Sender* {
    for (auto& sender : senders) {
      if (sender->key == key) return sender.get();
    }
    return nullptr;
  };

  std::vector<int64_t> kills;
  size_t gaps_seen = 0;
  std::string why;
  // A gap the kills do not explain, seen by `now`.
  auto look = [&](int64_t now) {
    const std::vector<Running::Gap>& gaps = cluster.running().gaps;
    for (; gaps_seen < gaps.size() && why.empty(); ++gaps_seen) {
      const Running::Gap& g = gaps[gaps_seen];
      Sender* sender = sender_of(g.sender);
      if (!sender) {
        why = g.id + " took numbers from " + g.sender + ", which is no sender";
        break;
      }
      int64_t went = sender->sent_at[g.id].at(static_cast<size_t>(g.missing - 1));
      bool killed = std::any_of(kills.begin(), kills.end(),
                                [&](int64_t k) { return went - kLossReach <= k && k <= now; });
      if (!killed) {
        why = g.id + " lost " + g.sender + "'s " + std::to_string(g.missing) + " to " +
              std::to_string(g.next - 1) + " (the first sent at " + std::to_string(went) +
              " ms, the gap seen by " + std::to_string(now) + " ms, no kill between)";
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
    std::vector<size_t> others;  // the members that do not send
    for (size_t i : cluster.live()) {
      if (!kept.count(i)) others.push_back(i);
    }
    std::vector<size_t> down;
    for (size_t i = 1; i < cluster.size(); ++i) {
      if (!cluster.up(i)) down.push_back(i);
    }
    switch (pick(5)) {
      case 0:  // a new member joins
        if (cluster.size() < 6) {
          note("join");
          size_t joined = cluster.add(std::string(1, static_cast<char>('a' + cluster.size())));
          if (joiner_sends && senders.size() == 1) send_from(joined);
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
  for (auto& sender : senders) sender->stop = true;
  auto every = [&](auto&& holds) {
    return std::all_of(senders.begin(), senders.end(),
                       [&](auto& sender) { return holds(*sender); });
  };
  // "" once every child has taken the last number `sender` sent it.
  auto short_of = [&](Sender& sender) -> std::string {
    for (const std::string& id : ids) {
      int64_t got = cluster.running().last_taken(id, sender.key);
      if (got != sender.sent[id]) {
        return id + " took " + std::to_string(got) + " of the " + std::to_string(sender.sent[id]) +
               " numbers " + sender.key + " sent";
      }
    }
    return "";
  };
  cluster.net().run_until([&] { return every([](Sender& sender) { return sender.stopped; }); },
                          30s);
  cluster.net().run_until([&] { return every([&](Sender& s) { return short_of(s).empty(); }); },
                          30s);
  look(cluster.net().now_ms());
  if (!why.empty()) return why;
  if (!cluster.running().out_of_order.empty()) {
    return "out of order: " + cluster.running().out_of_order[0];
  }
  if (faults.duplicate == 0 && !cluster.running().repeated.empty()) {
    return "repeated with no duplicate on the network: " + cluster.running().repeated[0];
  }
  for (auto& sender : senders) {
    if (std::string why_short = short_of(*sender); !why_short.empty()) return why_short;
  }
  tally->handed_over += cluster.running().handed_over;
  tally->lost_to_kills += cluster.running().gaps.size();
  for (size_t i = 1; i < senders.size(); ++i) {
    for (const auto& [id, sent] : senders[i]->sent) tally->sent_by_joiners += sent;
  }
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

// A member that joins missed the moves under way as it joins
// (docs/hub.md, "Members that missed a move").
TEST(HubHotSwapSimulation, AMemberThatJoinsDuringMovesSendsInOrderToo) {
  // Seeds beyond the first 100 that once failed (203: the joiner learned
  // the old record from a claim and sent to a forwarder that halted; 517: a
  // new copy committed in the old view was halted in the next as a copy
  // waiting for its state).
  SimSeeds seeds = sim_seeds(100, {203, 517});
  Tally tally;
  ASSERT_NO_FATAL_FAILURE(run_sim_seeds(seeds, [&](uint64_t seed, LogCapture* logs) {
    return run(seed, logs, &tally, /*joiner_sends=*/true);
  }));
  std::cout << "hot swaps: " << tally.handed_over
            << " handed over; gaps after kills: " << tally.lost_to_kills
            << "; numbers sent by joiners: " << tally.sent_by_joiners << "\n";
  if (seeds.count >= 20) EXPECT_GT(tally.sent_by_joiners, 0u);
}

}  // namespace

// The hub's synchronization strategies side by side, in one run: pubsub
// (a change's decider sends it to every member) and gossip (a tree of at
// most 3 sends per member). Each change is one child's start through
// member 0; measured: how long until every member's registry has it (from
// the start, and from the first registry that had it: the spread), and what
// it cost in record messages and their bytes (plexus_hub_record_*), in all
// and by the member that sent the most.
//
// BM_HubSyncChange: 3 and 10 members on real TCP nodes in this process.
// BM_HubSyncSimulated: 3, 10 and 100 members on the loopback network, in
// virtual time with every write taking 1 ms (100 nodes' threads would swamp
// a 2-core machine). Virtual time counts hops, not CPU: a decider's 99
// sends cost it nothing there; the messages by the busiest member show it.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "hub_support.h"
#include "plexus/node/loopback.h"
#include "plexus/strategies/synchronization.h"

namespace plexus::bench {
namespace {

constexpr int kChanges = 100;
constexpr char kHub[] = "sync";

hub::HubConfig sync_config(bool gossip) {
  hub::HubConfig c = bench_config();
  c.hub_id = kHub;
  if (gossip) {
    c.synchronization = std::make_shared<strategies::Gossip>(*strategies::Gossip::make(3));
  }
  return c;
}

hub::ChildSpec idle_spec(const std::string& id) {
  hub::ChildSpec s;
  s.id = id;
  s.type = "idle";
  return s;
}

double metric(Node& node, std::string_view name) {
  MetricsWriter w;
  node.runtime().metrics().collect(w);
  return w.value(name, {{"hub", kHub}}).value_or(0);
}

// The record messages and bytes each member has sent so far.
struct Sent {
  std::vector<double> messages, bytes;
};
template <class Members>
Sent sent(Members& members) {
  Sent s;
  for (auto& m : members) {
    s.messages.push_back(metric(*m.node, "plexus_hub_record_messages_sent_total"));
    s.bytes.push_back(metric(*m.node, "plexus_hub_record_bytes_sent_total"));
  }
  return s;
}

// What the changes cost: messages and bytes in all, and the most messages
// one member sent for one change (pubsub: its decider's members - 1). A
// member counts what it sends before it applies a change itself, so all is
// counted once every registry has it.
struct Cost {
  double messages = 0, bytes = 0, busiest = 0;
  int changes = 0;
  void add(const Sent& before, const Sent& after) {
    double most = 0;
    for (size_t i = 0; i < after.messages.size(); ++i) {
      messages += after.messages[i] - before.messages[i];
      bytes += after.bytes[i] - before.bytes[i];
      most = std::max(most, after.messages[i] - before.messages[i]);
    }
    busiest += most;
    ++changes;
  }
  void report(benchmark::State& state) const {
    state.counters["messages_per_change"] = messages / changes;
    state.counters["bytes_per_change"] = bytes / changes;
    state.counters["busiest_member_msgs"] = busiest / changes;
  }
};

// How many of `hubs` have child `id`.
template <class Members>
size_t holders(Members& members, const std::string& id) {
  size_t n = 0;
  for (auto& m : members) n += !m.hub->get_pids(id).empty();
  return n;
}

void BM_HubSyncChange(benchmark::State& state) {
  const bool gossip = state.range(0) == 1;
  const size_t n = static_cast<size_t>(state.range(1));
  Cluster c;
  for (size_t i = 0; i < n; ++i) {
    if (!c.join("sync" + std::to_string(i), sync_config(gossip))) {
      return state.SkipWithError("a member did not start");
    }
  }
  if (!c.settled(n)) return state.SkipWithError("the view did not settle");
  Cost cost;
  int changes = 0;
  double spread_total = 0;
  for (auto _ : state) {
    Sent before = sent(c.members);
    std::string id = "c" + std::to_string(changes++);
    auto began = Clock::now();
    if (!c.hub(0).start_child(idle_spec(id)).ok()) return state.SkipWithError("start");
    std::optional<Clock::time_point> first;
    auto deadline = began + 10s;
    for (;;) {
      size_t have = holders(c.members, id);
      if (have > 0 && !first) first = Clock::now();
      if (have == n) break;
      if (Clock::now() > deadline) return state.SkipWithError("a registry stayed short");
      std::this_thread::sleep_for(20us);
    }
    state.SetIterationTime(seconds_since(began));
    spread_total += std::chrono::duration<double, std::micro>(Clock::now() - *first).count();
    cost.add(before, sent(c.members));
  }
  state.counters["spread_us"] = spread_total / changes;
  cost.report(state);
}
BENCHMARK(BM_HubSyncChange)
    ->ArgNames({"gossip", "members"})
    ->ArgsProduct({{0, 1}, {3, 10}})
    ->Iterations(kChanges)
    ->UseManualTime()
    ->Unit(benchmark::kMicrosecond);

struct LoopMember {
  std::unique_ptr<Node> node;
  std::unique_ptr<hub::Hub> hub;
};

void BM_HubSyncSimulated(benchmark::State& state) {
  const bool gossip = state.range(0) == 1;
  const size_t n = static_cast<size_t>(state.range(1));
  LoopbackNetwork net;
  LoopbackFaults latency;
  latency.min_delay = latency.max_delay = 1ms;
  net.set_faults(latency);
  std::vector<LoopMember> members;
  std::vector<std::string> names;
  for (size_t i = 0; i < n; ++i) {
    NodeOptions o;
    o.name = "s" + std::to_string(i) + "@loop:0";
    o.cookie = kCookie;
    o.loopback = &net;
    o.seeds = names;
    o.runtime.deterministic = true;
    o.runtime.schedulers = 1;
    o.runtime.log_level = LogLevel::kNone;
    o.runtime.log_sink = [](const LogRecord&) {};
    auto node = Node::start(o);
    if (!node.ok()) return state.SkipWithError("a node did not start");
    LoopMember m{std::move(*node), nullptr};
    if (!m.node->register_process<PidProto>("idle", idle_child).ok()) {
      return state.SkipWithError("register");
    }
    auto h = hub::Hub::start(*m.node, sync_config(gossip));
    if (!h.ok()) return state.SkipWithError("a hub did not start");
    m.hub = std::move(*h);
    names.push_back(m.node->name());
    members.push_back(std::move(m));
  }
  bool settled = net.run_until(
      [&] {
        for (LoopMember& m : members) {
          if (m.hub->is_locked() || m.hub->nodes(true).size() != n) return false;
        }
        return true;
      },
      300s);
  if (!settled) return state.SkipWithError("the view did not settle");
  net.advance(2s);
  Cost cost;
  int changes = 0;
  double spread_total = 0;
  for (auto _ : state) {
    Sent before = sent(members);
    std::string id = "c" + std::to_string(changes++);
    int64_t began = net.now_ms();
    if (!members[0].hub->start_child(idle_spec(id)).ok()) {
      return state.SkipWithError("start");
    }
    std::optional<int64_t> first;
    bool all = net.run_until(
        [&] {
          size_t have = holders(members, id);
          if (have > 0 && !first) first = net.now_ms();
          return have == n;
        },
        10s);
    if (!all) return state.SkipWithError("a registry stayed short");
    state.SetIterationTime(static_cast<double>(net.now_ms() - began) / 1000);
    spread_total += static_cast<double>(net.now_ms() - *first);
    cost.add(before, sent(members));
  }
  state.counters["virtual_spread_ms"] = spread_total / changes;
  cost.report(state);
  for (LoopMember& m : members) m.hub.reset();
}
BENCHMARK(BM_HubSyncSimulated)
    ->ArgNames({"gossip", "members"})
    ->ArgsProduct({{0, 1}, {3, 10, 100}})
    ->Iterations(kChanges)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace plexus::bench

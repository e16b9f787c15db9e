// The hub on three real nodes on loopback: TCP nodes in this process (for
// the failover, one of them in a forked child, so that it can be killed with
// SIGKILL), hosting one hub, with 100,000 children of a trivial type
// (docs/hub.md; the targets are in bench/RESULTS.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include "hub_support.h"
#include "plexus/hub/hub.h"
#include "plexus/pid.pb.h"
#include "plexus/strategies/replication.h"

namespace plexus::bench {
namespace {

constexpr int kChildren = 100'000;

std::unique_ptr<Cluster> three_members() {
  auto c = std::make_unique<Cluster>();
  for (const char* base : {"hub_a", "hub_b", "hub_c"}) {
    if (!c->join(base, bench_config())) return nullptr;
  }
  if (!c->settled(3)) return nullptr;
  return c;
}

// Starts `n` children through member 0 in one awaited call: the seconds it
// took, or a negative number on failure.
double start_all(Cluster& c, int n) {
  auto began = Clock::now();
  auto f = c.hub(0).start_children(specs("child", n), {.awaitable = true, .timeout = 120s});
  if (!f.ok()) return -1;
  Result<hub::StartResult> r = f->await(120s);
  if (!r.ok() || !r->ok() || r->started.size() != static_cast<size_t>(n)) return -1;
  return seconds_since(began);
}

void BM_HubStartChildren(benchmark::State& state) {
  for (auto _ : state) {
    auto c = three_members();
    if (!c) return state.SkipWithError("the cluster did not start");
    uint64_t view = c->hub(0).view_number();
    auto began = Clock::now();
    double started = start_all(*c, kChildren);
    if (started < 0) return state.SkipWithError("the start failed");
    if (!c->all_have(kChildren)) return state.SkipWithError("a registry stayed short");
    double everywhere = seconds_since(began);
    // A view change during the start costs a handoff round: counted, since it
    // shows in the time.
    state.counters["view_changes"] = static_cast<double>(c->hub(0).view_number() - view);
    state.SetIterationTime(started);
    state.counters["children_per_s"] = kChildren / started;
    state.counters["all_started_s"] = started;
    state.counters["every_registry_s"] = everywhere;
  }
}
BENCHMARK(BM_HubStartChildren)->Apply(timed_runs);

// Argument 0: each lookup returns a new ChildInfo; 1: each fills the
// reader's own (Hub::child_lookup(id, out)), which allocates nothing once
// its buffers have grown.
void BM_HubLookup(benchmark::State& state) {
  const bool reuse = state.range(0) == 1;
  for (auto _ : state) {
    auto c = three_members();
    if (!c || start_all(*c, kChildren) < 0 || !c->all_have(kChildren)) {
      return state.SkipWithError("setup failed");
    }
    hub::Hub& h = c->hub(1);
    std::atomic<bool> go{false}, stop{false};
    std::atomic<uint64_t> total{0}, found{0};
    auto reader = [&](uint64_t seed) {
      std::mt19937_64 rng(seed);
      std::vector<std::string> ids;
      for (int i = 0; i < 4096; ++i) ids.push_back("child" + std::to_string(rng() % kChildren));
      while (!go.load()) std::this_thread::yield();
      uint64_t n = 0, hits = 0;
      hub::ChildInfo info;
      while (!stop.load(std::memory_order_relaxed)) {
        for (int k = 0; k < 256; ++k, ++n) {
          const std::string& id = ids[n % ids.size()];
          hits += reuse ? h.child_lookup(id, info) : h.child_lookup(id).has_value();
        }
      }
      total += n;
      found += hits;
    };
    std::thread t1(reader, 1), t2(reader, 2);
    auto began = Clock::now();
    go = true;
    std::this_thread::sleep_for(1s);
    stop = true;
    t1.join();
    t2.join();
    double seconds = seconds_since(began);
    state.SetIterationTime(seconds);
    state.counters["lookups_per_s"] = static_cast<double>(total.load()) / seconds;
    state.counters["hit_fraction"] =
        static_cast<double>(found.load()) / static_cast<double>(total.load());
  }
}
BENCHMARK(BM_HubLookup)->ArgName("reuse")->Arg(0)->Arg(1)->Apply(timed_runs);

void BM_HubStopChildren(benchmark::State& state) {
  for (auto _ : state) {
    auto c = three_members();
    if (!c || start_all(*c, kChildren) < 0 || !c->all_have(kChildren)) {
      return state.SkipWithError("setup failed");
    }
    std::vector<std::string> ids;
    for (int i = 0; i < kChildren; ++i) ids.push_back("child" + std::to_string(i));
    auto began = Clock::now();
    auto f = c->hub(0).stop_children(std::move(ids), {.awaitable = true, .timeout = 120s});
    if (!f.ok()) return state.SkipWithError("stop refused");
    Result<hub::StopResult> r = f->await(120s);
    if (!r.ok() || !r->ok()) return state.SkipWithError("the stop failed");
    double stopped = seconds_since(began);
    if (!c->all_have(0)) return state.SkipWithError("a registry kept children");
    state.SetIterationTime(stopped);
    state.counters["children_per_s"] = kChildren / stopped;
    state.counters["every_registry_s"] = seconds_since(began);
  }
}
BENCHMARK(BM_HubStopChildren)->Apply(timed_runs);

// Two copies of each child, the first active (BM_HubFailoverReplicated).
hub::HubConfig replicated_config() {
  using strategies::Replication;
  hub::HubConfig c = bench_config();
  c.redundancy = std::make_shared<Replication>(
      *Replication::make(2, Replication::Model::kActivePassive, Replication::Signal::kNone));
  return c;
}

// The member that is killed, in a forked child: a node with the hub.
template <hub::HubConfig (*config)()>
[[noreturn]] void run_victim(int fd) {
  std::optional<Member> m = start_member("hub_victim", {}, config());
  if (!m || !announce(fd, m->node->name())) _exit(1);
  for (;;) pause();
}

// The victim (forked) and two survivors in this process with `config`'s
// hub and every child started and everywhere; null (the victim reaped)
// on failure.
std::unique_ptr<Cluster> failover_cluster(ForkedNode& victim, const hub::HubConfig& config,
                                          size_t copies) {
  auto c = std::make_unique<Cluster>();
  std::vector<std::string> names{victim.name};
  for (const char* base : {"hub_a", "hub_b"}) {
    std::optional<Member> m = start_member(base, names, config);
    if (!m) break;
    names.push_back(m->node->name());
    c->members.push_back(std::move(*m));
  }
  if (c->members.size() == 2 && c->settled(3) && start_all(*c, kChildren) >= 0 &&
      c->all_have(kChildren) && wait_until([&] {
        for (const hub::StartedChild& child : c->hub(0).process_list(hub::Scope::kGlobal)) {
          if (child.nodes.size() != copies) return false;
        }
        return true;
      })) {
    return c;
  }
  victim.kill_and_reap();
  return nullptr;
}

void BM_HubFailover(benchmark::State& state) {
  for (auto _ : state) {
    ForkedNode victim = fork_node(run_victim<bench_config>);
    if (victim.name.empty()) return state.SkipWithError("the victim did not start");
    auto c = failover_cluster(victim, bench_config(), 1);
    if (!c) return state.SkipWithError("setup failed");
    size_t on_victim = kChildren - c->hub(0).process_list(hub::Scope::kLocal).size() -
                       c->hub(1).process_list(hub::Scope::kLocal).size();
    auto killed = Clock::now();
    victim.kill_and_reap();
    // Checked every 5 ms: each check reads both survivors' registries, and
    // polling harder would take the CPU the failover needs.
    auto deadline = Clock::now() + 120s;
    while (!c->holds_all(kChildren)) {
      if (Clock::now() > deadline) return state.SkipWithError("the survivors did not take over");
      std::this_thread::sleep_for(5ms);
    }
    double seconds = seconds_since(killed);
    state.SetIterationTime(seconds);
    state.counters["failover_ms"] = seconds * 1000;
    state.counters["children_moved"] = static_cast<double>(on_victim);
  }
}
// Forks: first, while this process has one thread (a fresh process runs it).
BENCHMARK(BM_HubFailover)->Apply(timed_runs);

// Replication 2 (active/passive) on three nodes, one killed with kill -9:
// a reader on a survivor asks for random children's active pids
// (Hub::active_pid) from the kill until every child has its two copies
// again, on the survivors. Unanswered: lookups that found no pid (the
// target: none). Dead: lookups that gave a pid on the killed node once the
// reader's node had seen it down (a pid of a dead node is no answer; the
// hub must serve none). Before the down: those that gave one earlier (the
// node cannot know yet). Time: until every child runs twice again.
void BM_HubFailoverReplicated(benchmark::State& state) {
  for (auto _ : state) {
    ForkedNode victim = fork_node(run_victim<replicated_config>);
    if (victim.name.empty()) return state.SkipWithError("the victim did not start");
    auto c = failover_cluster(victim, replicated_config(), 2);
    if (!c) return state.SkipWithError("setup failed");
    std::atomic<bool> stop{false};
    std::atomic<uint64_t> lookups{0}, unanswered{0}, dead{0}, before_down{0};
    std::thread reader([&] {
      std::mt19937_64 rng(7);
      uint64_t n = 0, missed = 0, on_dead = 0, early = 0;
      Node& node = *c->members[0].node;
      while (!stop.load(std::memory_order_relaxed)) {
        // Read before the batch: a lookup after the down was seen.
        std::vector<std::string> up = node.nodes();
        bool down = std::find(up.begin(), up.end(), victim.name) == up.end();
        for (int k = 0; k < 256; ++k, ++n) {
          Pid pid = c->hub(0).active_pid("child" + std::to_string(rng() % kChildren));
          if (!pid.valid()) {
            ++missed;
          } else if (node.node_name_view(pid) == victim.name) {
            ++(down ? on_dead : early);
          }
        }
      }
      lookups = n;
      unanswered = missed;
      dead = on_dead;
      before_down = early;
    });
    auto killed = Clock::now();
    victim.kill_and_reap();
    auto deadline = Clock::now() + 120s;
    bool back = true;
    while (!c->holds_all(kChildren, 2)) {
      if (Clock::now() > deadline) {
        back = false;
        break;
      }
      std::this_thread::sleep_for(5ms);
    }
    double seconds = seconds_since(killed);
    stop = true;
    reader.join();
    if (!back) return state.SkipWithError("the survivors did not run every child twice");
    state.SetIterationTime(seconds);
    state.counters["two_copies_again_ms"] = seconds * 1000;
    state.counters["lookups"] = static_cast<double>(lookups.load());
    state.counters["unanswered"] = static_cast<double>(unanswered.load());
    state.counters["dead_pid"] = static_cast<double>(dead.load());
    state.counters["before_down"] = static_cast<double>(before_down.load());
  }
}
BENCHMARK(BM_HubFailoverReplicated)->Apply(timed_runs);

}  // namespace
}  // namespace plexus::bench

// The heal of a partition under divergence (docs/hub.md, "Partitions:
// divergence"; bench/RESULTS.md, "The heal of a 2|3 partition"): five TCP
// nodes in this process host one hub with 100,000 children; two of them
// block the other three (Node::block, both ways), and each side starts what
// the other ran, so that every child runs on both sides; then the block is
// lifted. Time: from the unblock until the five registries name every child
// once and every duplicate is gone (each child runs once in all).
#include <benchmark/benchmark.h>

#include <thread>

#include "hub_support.h"

namespace plexus::bench {
namespace {

constexpr int kChildren = 100'000;
constexpr size_t kMembers = 5;
constexpr size_t kMinority = 2;  // members 0 and 1; the others are the majority

// Every member of `side` has a view of exactly `side` and runs, with the
// others of its side, each child once.
bool side_holds_all(Cluster& c, const std::vector<size_t>& side) {
  size_t local = 0;
  for (size_t i : side) {
    if (c.hub(i).is_locked() || c.hub(i).nodes(true).size() != side.size()) return false;
    local += c.hub(i).process_list(hub::Scope::kLocal).size();
  }
  return local == static_cast<size_t>(kChildren);
}

// The copies running on the members (halting ones too), from their
// metrics: cheap enough to poll while the heal runs.
double copies_running(Cluster& c) {
  double total = 0;
  for (Member& m : c.members) {
    MetricsWriter w;
    m.node->runtime().metrics().collect(w);
    total += w.value("plexus_hub_local_children", {{"hub", "bench"}}).value_or(0);
  }
  return total;
}

std::unique_ptr<Cluster> five_members() {
  auto c = std::make_unique<Cluster>();
  for (size_t i = 0; i < kMembers; ++i) {
    if (!c->join("heal_" + std::to_string(i), bench_config())) return nullptr;
  }
  if (!c->settled(kMembers)) return nullptr;
  auto f =
      c->hub(0).start_children(specs("child", kChildren), {.awaitable = true, .timeout = 120s});
  if (!f.ok()) return nullptr;
  Result<hub::StartResult> r = f->await(120s);
  if (!r.ok() || !r->ok() || !c->all_have(kChildren)) return nullptr;
  return c;
}

void BM_HubHeal(benchmark::State& state) {
  for (auto _ : state) {
    auto c = five_members();
    if (!c) return state.SkipWithError("the cluster did not start");
    std::vector<std::string> names = c->names();
    std::vector<std::string> majority(names.begin() + kMinority, names.end());
    std::vector<size_t> minority_side, majority_side;
    for (size_t i = 0; i < kMembers; ++i)
      (i < kMinority ? minority_side : majority_side).push_back(i);
    for (size_t i : minority_side) c->members[i].node->block(majority);
    // Each side runs every child: those it ran, and the other side's again.
    auto cut = Clock::now();
    if (!wait_until([&] {
          return side_holds_all(*c, minority_side) && side_holds_all(*c, majority_side);
        })) {
      return state.SkipWithError("the sides did not each run every child");
    }
    double split_seconds = seconds_since(cut);
    auto healed = Clock::now();
    for (size_t i : minority_side) c->members[i].node->unblock();
    // Checked every 20 ms: first the copies' count (the five nodes'
    // metrics, a few percent of the CPU at that rate), and only once that
    // is right the five registries of 100,000, a check that would take the
    // CPU the heal needs if it were made every time.
    // (The first member's view of five and the count are timed too.)
    auto deadline = Clock::now() + 120s;
    double view_seconds = -1, count_seconds = -1;
    for (;;) {
      if (view_seconds < 0 && c->hub(0).nodes(true).size() == kMembers) {
        view_seconds = seconds_since(healed);
      }
      if (copies_running(*c) == kChildren) {
        if (count_seconds < 0) count_seconds = seconds_since(healed);
        if (c->settled(kMembers) && c->holds_all(kChildren)) break;
      }
      if (Clock::now() > deadline) return state.SkipWithError("the heal did not converge");
      std::this_thread::sleep_for(20ms);
    }
    double seconds = seconds_since(healed);
    state.counters["view_ms"] = view_seconds * 1000;
    state.counters["one_copy_each_ms"] = count_seconds * 1000;
    state.SetIterationTime(seconds);
    state.counters["heal_ms"] = seconds * 1000;
    state.counters["split_ms"] = split_seconds * 1000;
  }
}
BENCHMARK(BM_HubHeal)->Apply(timed_runs);

}  // namespace
}  // namespace plexus::bench

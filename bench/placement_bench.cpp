// Placement: how many children a join and a leave move (the hub issue's
// target: a join moves within 10% of 1/(n+1)), and what a placement costs.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "plexus/strategies/consistent_hashing.h"
#include "plexus/strategies/segments.h"
#include "plexus/strategies/view.h"

namespace plexus::bench {
namespace {

using strategies::ConsistentHashing;
using strategies::Member;
using strategies::PlacementInput;
using strategies::Segments;
using strategies::View;

constexpr int kChildren = 100000;

View members(int count) {
  std::vector<Member> list;
  for (int i = 0; i < count; ++i) list.push_back({"node" + std::to_string(i) + "@127.0.0.1:1", 1});
  return View(1, std::move(list));
}

std::vector<std::string> ids() {
  std::vector<std::string> out;
  for (int i = 0; i < kChildren; ++i) out.push_back("child" + std::to_string(i));
  return out;
}

std::string primary(const std::string& id, const Segments& segments, const View& view) {
  PlacementInput input{.child_id = id, .segment = segments.of(id), .view = &view};
  return ConsistentHashing().place(input).at(0);
}

double moved_fraction(const std::vector<std::string>& children, const View& before,
                      const View& after) {
  Segments segments = *Segments::make();
  int moved = 0;
  for (const std::string& id : children) {
    moved += primary(id, segments, before) != primary(id, segments, after);
  }
  return static_cast<double>(moved) / static_cast<double>(children.size());
}

// 100,000 children on n members; the n+1-th joins, then the first leaves.
// moved_join / ideal_join should be near 1 (target: within 10%); a leave
// moves the leaver's share, ideal_leave = 1/n.
void BM_HubMovement(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  std::vector<std::string> children = ids();
  View before = members(n);
  View joined = members(n + 1);
  std::vector<Member> rest(before.members().begin() + 1, before.members().end());
  View left(2, rest);
  double join = 0;
  double leave = 0;
  for (auto _ : state) {
    join = moved_fraction(children, before, joined);
    leave = moved_fraction(children, before, left);
  }
  state.counters["moved_join"] = join;
  state.counters["ideal_join"] = 1.0 / (n + 1);
  state.counters["join_vs_ideal"] = join * (n + 1);
  state.counters["moved_leave"] = leave;
  state.counters["ideal_leave"] = 1.0 / n;
}
BENCHMARK(BM_HubMovement)->Arg(3)->Arg(10)->Arg(100)->Iterations(1)->Unit(benchmark::kMillisecond);

// One consistent-hashing placement of a random id on n members.
void BM_HubPlacement(benchmark::State& state) {
  View view = members(static_cast<int>(state.range(0)));
  Segments segments = *Segments::make();
  std::vector<std::string> children = ids();
  size_t i = 0;
  for (auto _ : state) {
    const std::string& id = children[i++ % children.size()];
    PlacementInput input{.child_id = id, .segment = segments.of(id), .view = &view};
    benchmark::DoNotOptimize(ConsistentHashing().place(input));
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HubPlacement)->Arg(3)->Arg(10)->Arg(100);

}  // namespace
}  // namespace plexus::bench

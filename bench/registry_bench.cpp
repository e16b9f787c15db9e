// The hub's registry alone (no node): lookups from two threads and bytes per
// child. The BM_HubLookup measures the same call through a Hub on
// three nodes; this is its floor.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "registry.h"  // hub/src: the registry is internal to the hub

namespace plexus::bench {
namespace {

using hub::ChildRecord;
using hub::ChildSpec;
using hub::detail::RecordPtr;
using hub::detail::Registry;

constexpr int kChildren = 100000;

std::vector<std::string> child_ids() {
  std::vector<std::string> ids;
  for (int i = 0; i < kChildren; ++i) ids.push_back("child" + std::to_string(i));
  return ids;
}

// 100,000 children of one start_children call (one shared spec), one pid each.
void fill(Registry& reg, const std::vector<std::string>& ids) {
  auto spec = std::make_shared<const ChildSpec>(ChildSpec{.type = "counter"});
  for (int i = 0; i < kChildren; ++i) {
    auto r = std::make_shared<ChildRecord>();
    r->id = ids[i];
    r->segment = reg.segments().of(r->id);
    r->epoch = 1;
    r->spec = spec;
    r->pids = {Pid{static_cast<uint32_t>(i % 3), static_cast<uint32_t>(i), 1}};
    reg.apply(std::move(r));
  }
}

Registry& shared_registry() {
  static Registry* reg = [] {
    auto* r = new Registry(*strategies::Segments::make());
    fill(*r, child_ids());
    return r;
  }();
  return *reg;
}

// Registry::find of random ids (what child_lookup reads), from 1 and 2 threads.
void BM_HubRegistryLookup(benchmark::State& state) {
  Registry& reg = shared_registry();
  static const std::vector<std::string> ids = child_ids();
  std::mt19937 rng(static_cast<unsigned>(state.thread_index()) + 1);
  for (auto _ : state) {
    RecordPtr r = reg.find(ids[rng() % kChildren]);
    benchmark::DoNotOptimize(r);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HubRegistryLookup)->Threads(1)->Threads(2)->UseRealTime();

// Registry::first_pid of random ids (get_pid), from 1 and 2 threads.
void BM_HubRegistryGetPid(benchmark::State& state) {
  Registry& reg = shared_registry();
  static const std::vector<std::string> ids = child_ids();
  std::mt19937 rng(static_cast<unsigned>(state.thread_index()) + 1);
  for (auto _ : state) benchmark::DoNotOptimize(reg.first_pid(ids[rng() % kChildren]));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_HubRegistryGetPid)->Threads(1)->Threads(2)->UseRealTime();

// Registry::apply of 100,000 new records into an empty registry (the
// writer's side of a start_children of 100,000, records built included);
// children/s.
void BM_HubRegistryApply(benchmark::State& state) {
  std::vector<std::string> ids = child_ids();
  for (auto _ : state) {
    Registry reg(*strategies::Segments::make());
    fill(reg, ids);
    benchmark::DoNotOptimize(reg.live_count());
  }
  state.SetItemsProcessed(state.iterations() * kChildren);
}
BENCHMARK(BM_HubRegistryApply)->Unit(benchmark::kMillisecond)->UseRealTime();

// Heap bytes per child of a registry of 100,000 (the ids' own strings
// included, as the registry holds its copy of each).
void BM_HubRegistryMemory(benchmark::State& state) {
  std::vector<std::string> ids = child_ids();
  double per_child = 0;
  for (auto _ : state) {
    size_t before = mallinfo2().uordblks;
    {
      auto reg = std::make_unique<Registry>(*strategies::Segments::make());
      fill(*reg, ids);
      per_child = static_cast<double>(mallinfo2().uordblks - before) / kChildren;
    }
  }
  state.counters["bytes_per_child"] = per_child;
}
BENCHMARK(BM_HubRegistryMemory)->Iterations(1)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace plexus::bench

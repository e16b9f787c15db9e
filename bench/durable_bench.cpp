// A durable hub (HubConfig::store_path; docs/hub.md, "Durable children") on
// three real TCP nodes, every one killed with SIGKILL and started again
// (bench/RESULTS.md, "Durable children").
//
// Both lives run in forked children, so that this process never opens a
// RocksDB (whose background threads would stay, and fork() needs one
// thread): the first starts the three nodes with their stores and 100,000
// children, says their names and is killed; the second starts three nodes
// of those names (the same ports) on the same stores, times until every
// child runs once again and every registry names it, and says how long.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <sstream>
#include <thread>

#include "hub_support.h"

namespace plexus::bench {
namespace {

constexpr int kChildren = 100'000;

std::string store_root() {
  return (std::filesystem::temp_directory_path() /
          ("plexus_bench_restart_" + std::to_string(::getpid())))
      .string();
}

hub::HubConfig durable_config(const std::string& root, const std::string& member) {
  hub::HubConfig c = bench_config();
  c.store_path = root + "/" + member;
  return c;
}

// Starts members `bases` (base names, or whole names to start again) with
// their stores under `root`, each connected to the ones before it.
std::unique_ptr<Cluster> durable_members(const std::string& root,
                                         const std::vector<std::string>& bases) {
  auto c = std::make_unique<Cluster>();
  for (size_t i = 0; i < bases.size(); ++i) {
    if (!c->join(bases[i], durable_config(root, "m" + std::to_string(i)))) return nullptr;
  }
  return c;
}

// The first life: every child started and kept; then its names (and the
// start's seconds) on `fd`, and a wait for SIGKILL.
[[noreturn]] void first_life(const std::string& root, int fd) {
  auto c = durable_members(root, {"hub_a", "hub_b", "hub_c"});
  if (!c || !c->settled(3)) _exit(1);
  auto began = Clock::now();
  auto f =
      c->hub(0).start_children(specs("child", kChildren), {.awaitable = true, .timeout = 120s});
  if (!f.ok()) _exit(1);
  Result<hub::StartResult> r = f->await(120s);
  if (!r.ok() || !r->ok() || r->started.size() != static_cast<size_t>(kChildren)) _exit(1);
  double started = seconds_since(began);
  // A copy is in its node's store before its decider commits it.
  if (!c->all_have(kChildren)) _exit(1);
  std::ostringstream line;
  for (const std::string& name : c->names()) line << name << " ";
  line << started;
  if (!announce(fd, line.str())) _exit(1);
  for (;;) pause();
}

// The second life: the same nodes again, until every child is back; the
// seconds that took (from the first node's start), the first node's view
// number and the children moved, on `fd`.
[[noreturn]] void second_life(const std::string& root, const std::vector<std::string>& names,
                              int fd) {
  auto began = Clock::now();
  auto c = durable_members(root, names);
  if (!c) _exit(1);
  // Checked every 5 ms, as the failover is: each check reads the three
  // registries, and polling harder takes the CPU the restart needs.
  auto deadline = Clock::now() + 120s;
  while (!c->holds_all(kChildren)) {
    if (Clock::now() > deadline) _exit(1);
    std::this_thread::sleep_for(5ms);
  }
  double seconds = seconds_since(began);
  double moved = 0;
  for (Member& m : c->members) {
    MetricsWriter w;
    m.node->runtime().metrics().collect(w);
    moved += w.value("plexus_hub_migrations_total", {{"hub", "bench"}}).value_or(0);
  }
  std::ostringstream line;
  line << seconds << " " << c->hub(0).view_number() << " " << moved;
  if (!announce(fd, line.str())) _exit(1);
  for (;;) pause();
}

void BM_HubFullRestart(benchmark::State& state) {
  for (auto _ : state) {
    std::string root = store_root();
    std::filesystem::remove_all(root);
    ForkedNode first = fork_node([&](int fd) { first_life(root, fd); });
    if (first.name.empty()) return state.SkipWithError("the first life did not start");
    first.kill_and_reap();  // kill -9 of all three nodes at once
    std::istringstream said(first.name);
    std::vector<std::string> names(3);
    double start_seconds = 0;
    said >> names[0] >> names[1] >> names[2] >> start_seconds;
    ForkedNode second = fork_node([&](int fd) { second_life(root, names, fd); });
    second.kill_and_reap();
    std::filesystem::remove_all(root);
    if (second.name.empty()) return state.SkipWithError("the children did not all come back");
    std::istringstream back(second.name);
    double seconds = 0, view = 0, moved = 0;
    back >> seconds >> view >> moved;
    state.SetIterationTime(seconds);
    state.counters["back_ms"] = seconds * 1000;
    state.counters["view"] = view;
    state.counters["moved"] = moved;
    state.counters["durable_start_ms"] = start_seconds * 1000;
  }
}
// Forks, as the failover does: this process must have one thread.
BENCHMARK(BM_HubFullRestart)->Apply(timed_runs);

}  // namespace
}  // namespace plexus::bench

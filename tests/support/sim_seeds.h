// The seeds a seeded simulation runs, and the loop that runs them. One seed
// is one run, the same every time, so a failing seed replays exactly:
//   PLEXUS_SIM_SEED=N   runs seed N alone and prints its trace on failure;
//   PLEXUS_SIM_SEEDS=N  runs seeds 1..N (the long mode; CI runs the default).
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstdlib>
#include <initializer_list>
#include <string>
#include <vector>

#include "test_support.h"

namespace plexus_test {

struct SimSeeds {
  std::vector<uint64_t> order;  // the seeds to run, in this order
  uint64_t count = 0;           // how many of 1..N run (1 on a replay)
  bool replay = false;          // PLEXUS_SIM_SEED named the one seed
};

// Seeds 1..PLEXUS_SIM_SEEDS (`fallback` when unset), then each seed of
// `found` beyond them: seeds that once failed keep running in CI, each
// replaying the schedule that found its bug while the generator stays as it
// is.
inline SimSeeds sim_seeds(uint64_t fallback, std::initializer_list<uint64_t> found = {}) {
  auto env = [](const char* name, uint64_t unset) {
    const char* v = std::getenv(name);
    return v ? std::strtoull(v, nullptr, 10) : unset;
  };
  SimSeeds seeds;
  if (uint64_t only = env("PLEXUS_SIM_SEED", 0)) {
    seeds.order.push_back(only);
    seeds.count = 1;
    seeds.replay = true;
    return seeds;
  }
  seeds.count = env("PLEXUS_SIM_SEEDS", fallback);
  for (uint64_t i = 1; i <= seeds.count; ++i) seeds.order.push_back(i);
  for (uint64_t seed : found) {
    if (seed > seeds.count) seeds.order.push_back(seed);
  }
  return seeds;
}

// Calls `run(seed, logs)`, which returns why the run failed ("" when every
// check held), for each seed in order, and fails the test at the first
// failure with the line that replays it. `logs` is null but on a replay, so
// the many runs stay quiet and the one replayed prints its trace.
template <class Run>
void run_sim_seeds(const SimSeeds& seeds, Run run) {
  for (uint64_t seed : seeds.order) {
    LogCapture logs;
    std::string why = run(seed, seeds.replay ? &logs : nullptr);
    ASSERT_EQ(why, "") << "seed " << seed << " (replay: PLEXUS_SIM_SEED=" << seed << ")"
                       << (seeds.replay ? "\n" + logs.dump() : "");
  }
}

}  // namespace plexus_test

// BM_HubHotSwap (issue "The hub, resilient"): 30,000 children with 1 KiB of
// state each on two real TCP nodes in this process, with hot swap; a sender
// on the first keeps 10,000 messages a second flowing to them through the
// hub; a third node joins and the children it now heads (about 10,000) move
// to it with their state. Measured: children moved per second, and messages
// lost and out of order (targets: 0 and 0).
#include <benchmark/benchmark.h>

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "hub_support.h"
#include "plexus/hub/handover.h"
#include "plexus/strategies/migration.h"
#include "plexus_bench/messages.pb.h"

namespace plexus::bench {
namespace {

constexpr int kSwapChildren = 30'000;
constexpr size_t kStateBytes = 1024;
constexpr int kMessagesPerSecond = 10'000;

// What the children report, from every node of this process.
struct SwapStats {
  std::atomic<long> handed_over{0};
  std::atomic<long> out_of_order{0};
  std::atomic<int64_t> last_handover_ns{0};
  std::vector<std::atomic<uint64_t>> last = std::vector<std::atomic<uint64_t>>(kSwapChildren);
};
SwapStats* g_stats = nullptr;

// A child whose state is 1 KiB, the first 8 bytes its last number (Item).
Task<> stateful_child(Context self, plexus_bench::NoArgs) {
  hub::ChildStart start = co_await self.receive<hub::ChildStart>();
  const size_t index = std::stoul(start.child_id.substr(1));
  std::string state(kStateBytes, 's');
  uint64_t last = 0;
  if (start.migration_target) {
    hub::Handover h = co_await self.receive<hub::Handover>();
    if (h.state && h.state->size() == kStateBytes) {
      state = std::move(*h.state);
      std::memcpy(&last, state.data(), sizeof last);
      g_stats->handed_over.fetch_add(1);
      g_stats->last_handover_ns.store(Clock::now().time_since_epoch().count());
    }
  }
  for (;;) {
    std::optional<hub::HandoverRequest> request;
    co_await self.receive(
        [&](plexus_bench::Item& item) {
          if (item.seq() != last + 1) g_stats->out_of_order.fetch_add(1);
          last = item.seq();
          g_stats->last[index].store(last, std::memory_order_relaxed);
        },
        [&](hub::HandoverRequest& r) { request = std::move(r); });
    if (!request) continue;
    std::memcpy(state.data(), &last, sizeof last);
    if (co_await hub::hand_over(self, std::move(*request), state)) co_return;
  }
}

void register_stateful(Node& node) {
  (void)node.register_process<plexus_bench::NoArgs>("stateful", stateful_child);
}

hub::HubConfig swap_config() {
  hub::HubConfig c = bench_config();
  c.migration = std::make_shared<strategies::HotSwap>();
  return c;
}

// Sends child i its next number, round robin, keeping up with
// kMessagesPerSecond since it began (it catches up after a slow tick); one
// the hub holds back (kResourceExhausted) is sent again next tick.
struct Sender {
  std::vector<uint64_t> sent = std::vector<uint64_t>(kSwapChildren);
  std::atomic<uint64_t> total{0};
  std::atomic<bool> stop{false};
  std::atomic<bool> stopped{false};
  std::atomic<long> refused{0};

  Task<> run(Context self, hub::Hub& hub) {
    const auto began = Clock::now();
    size_t next = 0;
    plexus_bench::Item item;
    while (!stop.load()) {
      auto due = static_cast<uint64_t>(seconds_since(began) * kMessagesPerSecond);
      while (total.load(std::memory_order_relaxed) < due) {
        item.set_seq(sent[next] + 1);
        if (!hub.send(self, "s" + std::to_string(next), item).ok()) {
          refused.fetch_add(1);
          break;
        }
        ++sent[next];
        total.fetch_add(1, std::memory_order_relaxed);
        next = (next + 1) % kSwapChildren;
      }
      co_await self.receive(after(1ms, [] {}));
    }
    stopped.store(true);
  }
};

void BM_HubHotSwap(benchmark::State& state) {
  for (auto _ : state) {
    SwapStats stats;
    g_stats = &stats;
    auto c = std::make_unique<Cluster>();
    for (const char* base : {"swap_a", "swap_b"}) {
      if (!c->join(base, swap_config(), register_stateful)) {
        return state.SkipWithError("a member did not start");
      }
    }
    if (!c->settled(2)) return state.SkipWithError("the cluster did not settle");
    auto f = c->hub(0).start_children(specs("s", kSwapChildren, "stateful"),
                                      {.awaitable = true, .timeout = 120s});
    if (!f.ok() || !f->await(120s).ok() || !c->all_have(kSwapChildren)) {
      return state.SkipWithError("the start failed");
    }
    Sender sender;
    c->members[0].node->runtime().spawn(
        [&sender, &h = c->hub(0)](Context self) -> Task<> { co_await sender.run(self, h); });
    std::this_thread::sleep_for(500ms);

    auto joined = Clock::now();
    uint64_t sent_before = sender.total.load();
    if (!c->join("swap_c", swap_config(), register_stateful)) {
      return state.SkipWithError("the joiner did not start");
    }
    // Done when the joiner runs every child it heads and each came with its
    // state: its local count equals the handovers, and stays so.
    long seen = -1;
    auto steady_since = Clock::now();
    bool done = wait_until([&] {
      long moved = stats.handed_over.load();
      size_t on_c = c->hub(2).process_list(hub::Scope::kLocal).size();
      if (moved != seen || on_c != static_cast<size_t>(moved) || c->hub(0).is_locked()) {
        seen = moved;
        steady_since = Clock::now();
        return false;
      }
      return moved > 0 && Clock::now() - steady_since > 500ms;
    });
    if (!done) return state.SkipWithError("the moves did not end");
    double seconds = std::chrono::duration<double>(
                         Clock::time_point(Clock::duration(stats.last_handover_ns.load())) - joined)
                         .count();
    double rate = static_cast<double>(sender.total.load() - sent_before) / seconds_since(joined);
    sender.stop = true;
    if (!wait_until([&] { return sender.stopped.load(); })) {
      return state.SkipWithError("the sender did not stop");
    }
    // Every number sent arrives: what each child took last is what it was sent.
    auto lost = [&] {
      uint64_t n = 0;
      for (int i = 0; i < kSwapChildren; ++i) {
        n += sender.sent[i] - std::min(sender.sent[i], stats.last[i].load());
      }
      return n;
    };
    wait_until([&] { return lost() == 0; }, std::chrono::seconds(10));
    uint64_t total = 0;
    for (uint64_t s : sender.sent) total += s;
    state.SetIterationTime(seconds);
    state.counters["moved"] = static_cast<double>(stats.handed_over.load());
    state.counters["children_per_s"] = static_cast<double>(stats.handed_over.load()) / seconds;
    state.counters["messages_sent"] = static_cast<double>(total);
    state.counters["messages_per_s_while_moving"] = rate;
    state.counters["lost"] = static_cast<double>(lost());
    state.counters["out_of_order"] = static_cast<double>(stats.out_of_order.load());
    state.counters["refused_try_again"] = static_cast<double>(sender.refused.load());
    c.reset();
    g_stats = nullptr;
  }
}
BENCHMARK(BM_HubHotSwap)->Apply(timed_runs);

}  // namespace
}  // namespace plexus::bench

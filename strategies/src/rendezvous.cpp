#include "plexus/strategies/rendezvous.h"

#include <algorithm>
#include <cstddef>
#include <utility>

#include "plexus/strategies/stable_hash.h"

namespace plexus::strategies {

namespace {
constexpr uint64_t kRendezvousSeed = 0x7e4d65a0c2b1f3d9ull;
}  // namespace

uint64_t rendezvous_weight(uint32_t segment, std::string_view node) {
  return stable_hash(node, kRendezvousSeed ^ (uint64_t{segment} * 0x9E3779B97F4A7C15ull));
}

std::vector<const Member*> rendezvous_first(uint32_t segment, const View& view, size_t count) {
  std::vector<std::pair<uint64_t, const Member*>> weighted;
  weighted.reserve(view.size());
  for (const Member& m : view.members())
    weighted.emplace_back(rendezvous_weight(segment, m.node), &m);
  count = std::min(count, weighted.size());
  std::partial_sort(weighted.begin(), weighted.begin() + static_cast<std::ptrdiff_t>(count),
                    weighted.end(), [](const auto& a, const auto& b) {
                      return a.first != b.first ? a.first > b.first
                                                : a.second->node < b.second->node;
                    });
  std::vector<const Member*> first;
  first.reserve(count);
  for (size_t i = 0; i < count; ++i) first.push_back(weighted[i].second);
  return first;
}

std::vector<const Member*> rendezvous_order(uint32_t segment, const View& view) {
  return rendezvous_first(segment, view, view.size());
}

}  // namespace plexus::strategies

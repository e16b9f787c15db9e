#include "plexus/strategies/bounded_load.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "plexus/strategies/rendezvous.h"

namespace plexus::strategies {

Result<BoundedLoad> BoundedLoad::make(double balance) {
  if (!(balance > 1.0) || !std::isfinite(balance)) {
    return Status(StatusCode::kInvalidArgument,
                  "bounded_load balance must be a number above 1, not " + std::to_string(balance));
  }
  return BoundedLoad(balance);
}

std::string BoundedLoad::parameters() const {
  char text[48];
  std::snprintf(text, sizeof text, "balance=%g", balance_);
  return text;
}

std::vector<std::string> BoundedLoad::place(const PlacementInput& input) const {
  const View& view = *input.view;
  size_t wanted = std::min(view.size(), static_cast<size_t>(std::max(input.replicas, 0)));
  std::vector<std::string> placed;
  placed.reserve(wanted);
  // Recorded nodes that are still members stay.
  if (input.recorded != nullptr) {
    for (const std::string& node : *input.recorded) {
      if (placed.size() < wanted && view.contains(node) &&
          std::find(placed.begin(), placed.end(), node) == placed.end()) {
        placed.push_back(node);
      }
    }
  }
  if (placed.size() == wanted) return placed;
  auto load_of = [&](const std::string& node) -> uint64_t {
    if (input.loads == nullptr) return 0;
    auto it = input.loads->find(node);
    return it == input.loads->end() ? 0 : it->second;
  };
  uint64_t total = 0;
  for (const Member& m : view.members()) total += load_of(m.node);
  // Room for this child too: the bound is on the loads after placing it.
  auto capacity = static_cast<uint64_t>(
      std::ceil(balance_ * static_cast<double>(total + 1) / static_cast<double>(view.size())));
  std::vector<const Member*> order = rendezvous_order(input.segment, view);
  auto taken = [&](const Member* m) {
    return std::find(placed.begin(), placed.end(), m->node) != placed.end();
  };
  for (const Member* m : order) {
    if (placed.size() == wanted) break;
    if (!taken(m) && load_of(m->node) < capacity) placed.push_back(m->node);
  }
  // Every member at the bound (only with a factor near the member count):
  // the rest go in rendezvous order.
  for (const Member* m : order) {
    if (placed.size() == wanted) break;
    if (!taken(m)) placed.push_back(m->node);
  }
  return placed;
}

}  // namespace plexus::strategies

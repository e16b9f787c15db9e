#include "plexus/strategies/consistent_hashing.h"

#include <algorithm>

#include "plexus/strategies/rendezvous.h"

namespace plexus::strategies {

std::vector<std::string> ConsistentHashing::place(const PlacementInput& input) const {
  std::vector<const Member*> first = rendezvous_first(
      input.segment, *input.view, static_cast<size_t>(std::max(input.replicas, 0)));
  std::vector<std::string> nodes;
  nodes.reserve(first.size());
  for (const Member* m : first) nodes.push_back(m->node);
  return nodes;
}

}  // namespace plexus::strategies

#include "plexus/strategies/view.h"

#include <algorithm>

namespace plexus::strategies {

View::View(uint64_t number, std::vector<Member> members)
    : number_(number), members_(std::move(members)) {
  std::sort(members_.begin(), members_.end());
  // Sorted by (node, creation): of equal names the last is the newest.
  auto last = std::unique(members_.rbegin(), members_.rend(),
                          [](const Member& a, const Member& b) { return a.node == b.node; });
  members_.erase(members_.begin(), last.base());
}

const Member* View::find(std::string_view node) const {
  auto it = std::lower_bound(members_.begin(), members_.end(), node,
                             [](const Member& m, std::string_view n) { return m.node < n; });
  return it != members_.end() && it->node == node ? &*it : nullptr;
}

}  // namespace plexus::strategies

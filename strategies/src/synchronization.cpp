#include "plexus/strategies/synchronization.h"

#include <algorithm>

#include "plexus/strategies/stable_hash.h"

namespace plexus::strategies {

std::string describe(const Synchronization& synchronization) {
  return std::string(synchronization.name()) + "(" + synchronization.parameters() + ")";
}

std::vector<std::vector<std::string>> PubSub::split(std::vector<std::string> to,
                                                    uint64_t /*seed*/) const {
  std::vector<std::vector<std::string>> parts;
  parts.reserve(to.size());
  for (std::string& member : to) parts.push_back({std::move(member)});
  return parts;
}

Result<Gossip> Gossip::make(size_t fanout, std::chrono::milliseconds ack_timeout,
                            std::chrono::milliseconds ttl) {
  auto invalid = [](std::string what) {
    return Status(StatusCode::kInvalidArgument, "gossip: " + std::move(what));
  };
  if (fanout == 0) return invalid("fanout must be 1 or more, not 0");
  if (ack_timeout.count() <= 0) return invalid("ack_timeout must be above 0");
  if (ttl < ack_timeout) {
    return invalid("ttl (" + std::to_string(ttl.count()) + " ms) must be at least ack_timeout (" +
                   std::to_string(ack_timeout.count()) + " ms): a re-sent change must be known");
  }
  return Gossip(fanout, ack_timeout, ttl);
}

std::string Gossip::parameters() const {
  return "fanout=" + std::to_string(fanout_) +
         ",ack_timeout_ms=" + std::to_string(ack_timeout_.count()) +
         ",ttl_ms=" + std::to_string(ttl_.count());
}

std::vector<std::vector<std::string>> Gossip::split(std::vector<std::string> to,
                                                    uint64_t seed) const {
  // Ordered by (hash, name): a part passed on is cut the same way again by
  // its first member, whatever its size, so a change's tree is one order
  // cut into ever smaller runs.
  std::vector<std::pair<uint64_t, std::string>> order;
  order.reserve(to.size());
  for (std::string& member : to) {
    uint64_t h = stable_hash(member, seed);
    order.emplace_back(h, std::move(member));
  }
  std::sort(order.begin(), order.end());
  const size_t n = order.size();
  const size_t count = std::min(fanout_, n);
  std::vector<std::vector<std::string>> parts(count);
  size_t next = 0;
  for (size_t p = 0; p < count; ++p) {
    size_t size = n / count + (p < n % count ? 1 : 0);
    parts[p].reserve(size);
    for (size_t i = 0; i < size; ++i) parts[p].push_back(std::move(order[next++].second));
  }
  return parts;
}

}  // namespace plexus::strategies

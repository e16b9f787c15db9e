#include "plexus/strategies/distribution.h"

namespace plexus::strategies {

Status Distribution::check_start(const std::vector<std::string>&, const ChildMapping*, int,
                                 const View&) const {
  return Status::OK();
}

std::string describe(const Distribution& distribution) {
  return std::string(distribution.name()) + "(" + distribution.parameters() + ")";
}

}  // namespace plexus::strategies

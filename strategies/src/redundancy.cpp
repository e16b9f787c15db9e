#include "plexus/strategies/redundancy.h"

namespace plexus::strategies {

std::string describe(const Redundancy& redundancy) {
  return std::string(redundancy.name()) + "(" + redundancy.parameters() + ")";
}

}  // namespace plexus::strategies

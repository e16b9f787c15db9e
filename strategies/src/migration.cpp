#include "plexus/strategies/migration.h"

namespace plexus::strategies {

std::string describe(const Migration& migration) {
  return std::string(migration.name()) + "(" + migration.parameters() + ")";
}

}  // namespace plexus::strategies

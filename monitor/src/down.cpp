#include "plexus/zen/down.h"

#include "plexus/term.h"

namespace plexus::zen {

ExitReason nodedown() {
  static const ExitReason reason = ExitReason::error(Term::atom("nodedown"));
  return reason;
}

bool is_nodedown(const ExitReason& reason) {
  const Term* term = reason.term();
  return term != nullptr && term->is_atom("nodedown");
}

std::ostream& operator<<(std::ostream& os, const Down& down) {
  return os << "zen::Down{" << down.ref << ", " << down.pid << ", " << down.reason << "}";
}

}  // namespace plexus::zen

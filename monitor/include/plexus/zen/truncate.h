// Bounding the exit reasons that cross nodes.
#pragma once

#include <cstddef>

#include "plexus/exit_reason.h"
#include "plexus/term.h"

namespace plexus::zen {

// How far truncate() lets a reason grow.
struct TruncateLimits {
  // Text (a reason's detail, a binary or an atom inside a term) longer than
  // this becomes its first max_binary_size - 3 bytes followed by "...".
  size_t max_binary_size = 1024;
  // Term parts at this depth or deeper become the atom `truncated` (the
  // reason's own term is at depth 0, its elements at depth 1, ...).
  int depth = 3;
};

// ZenMonitor's rules, so that a batch of deaths stays small whatever the
// processes died of:
//   - a top-level `shutdown` reason (also `{shutdown, X}` as a term) passes
//     unchanged;
//   - long text is cut as TruncateLimits says;
//   - tuples, lists and maps of 5 or more elements become `truncated`, smaller
//     ones keep their shape with every element truncated in turn;
//   - numbers pass unchanged.
// Never throws: whatever it cannot handle becomes `truncated`.
ExitReason truncate(const ExitReason& reason, const TruncateLimits& limits = {}) noexcept;

// The same rules for a term at `depth`.
Term truncate(const Term& term, const TruncateLimits& limits, int depth = 0);

}  // namespace plexus::zen

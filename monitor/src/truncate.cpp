#include "plexus/zen/truncate.h"

#include <string>
#include <utility>
#include <vector>

namespace plexus::zen {

namespace {

// Containers of this many elements or more become `truncated`.
constexpr size_t kMaxElements = 5;

bool too_long(std::string_view text, const TruncateLimits& limits) {
  return text.size() > limits.max_binary_size;
}

std::string cut(std::string_view text, const TruncateLimits& limits) {
  std::string out(text.substr(0, limits.max_binary_size - 3));
  out += "...";
  return out;
}

Term truncated() { return Term::atom("truncated"); }

// Made before anything can run out of memory, for truncate()'s last resort.
const ExitReason kTruncatedReason = ExitReason::error("truncated");

bool is_shutdown_tuple(const Term& term) {
  return term.type() == Term::Type::kTuple && term.size() == 2 &&
         term.elements()[0].is_atom("shutdown");
}

}  // namespace

Term truncate(const Term& term, const TruncateLimits& limits, int depth) {
  if (depth == 0 && is_shutdown_tuple(term)) return term;
  if (depth >= limits.depth) return truncated();
  switch (term.type()) {
    case Term::Type::kInteger:
    case Term::Type::kFloat:
      return term;
    case Term::Type::kAtom:
      return too_long(term.atom_name(), limits) ? Term::atom(cut(term.atom_name(), limits)) : term;
    case Term::Type::kBinary:
      return too_long(term.binary(), limits) ? Term::binary(cut(term.binary(), limits)) : term;
    case Term::Type::kTuple:
    case Term::Type::kList: {
      if (term.size() >= kMaxElements) return truncated();
      std::vector<Term> elements;
      elements.reserve(term.size());
      for (const Term& e : term.elements()) elements.push_back(truncate(e, limits, depth + 1));
      return term.type() == Term::Type::kTuple ? Term::tuple(std::move(elements))
                                               : Term::list(std::move(elements));
    }
    case Term::Type::kMap: {
      if (term.size() >= kMaxElements) return truncated();
      std::vector<std::pair<Term, Term>> entries;
      entries.reserve(term.size());
      for (const auto& [k, v] : term.entries()) {
        entries.emplace_back(k, truncate(v, limits, depth + 1));
      }
      return Term::map(std::move(entries));
    }
  }
  return truncated();
}

ExitReason truncate(const ExitReason& reason, const TruncateLimits& limits) noexcept {
  try {
    switch (reason.kind()) {
      case ExitReason::Kind::kShutdown:
        return reason;
      case ExitReason::Kind::kError:
        if (const Term* term = reason.term()) return ExitReason::error(truncate(*term, limits));
        if (too_long(reason.detail(), limits))
          return ExitReason::error(cut(reason.detail(), limits));
        return reason;
      case ExitReason::Kind::kException: {
        if (!too_long(reason.detail(), limits)) return reason;
        // The detail is "<type>: <what>": cut it as one text.
        std::string text = cut(reason.detail(), limits);
        size_t colon = text.find(": ");
        if (colon == std::string::npos) return ExitReason::exception("unknown", text);
        return ExitReason::exception(text.substr(0, colon), text.substr(colon + 2));
      }
      default:
        return reason;
    }
  } catch (...) {
    // Out of memory while copying: still a reason, and still small.
    return kTruncatedReason;
  }
}

}  // namespace plexus::zen

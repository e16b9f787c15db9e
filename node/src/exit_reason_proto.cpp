#include "plexus/node/exit_reason_proto.h"

#include <string>
#include <utility>
#include <vector>

namespace plexus {

namespace {

// `depth` is the depth `term` is at (1 for the outermost term).
bool write_term(const Term& term, int depth, wire::Term* out) {
  if (depth > kMaxTermDepth) return false;
  switch (term.type()) {
    case Term::Type::kAtom:
      out->set_atom(std::string(term.atom_name()));
      return true;
    case Term::Type::kInteger:
      out->set_integer(term.integer());
      return true;
    case Term::Type::kFloat:
      out->set_floating(term.floating());
      return true;
    case Term::Type::kBinary:
      out->set_binary(std::string(term.binary()));
      return true;
    case Term::Type::kTuple:
    case Term::Type::kList: {
      wire::TermList* list =
          term.type() == Term::Type::kTuple ? out->mutable_tuple() : out->mutable_list();
      list->mutable_items()->Reserve(static_cast<int>(term.size()));
      for (const Term& e : term.elements()) {
        if (!write_term(e, depth + 1, list->add_items())) return false;
      }
      return true;
    }
    case Term::Type::kMap: {
      wire::TermMap* map = out->mutable_map();
      map->mutable_entries()->Reserve(static_cast<int>(term.size()));
      for (const auto& [key, value] : term.entries()) {
        wire::TermMapEntry* entry = map->add_entries();
        if (!write_term(key, depth + 1, entry->mutable_key()) ||
            !write_term(value, depth + 1, entry->mutable_value())) {
          return false;
        }
      }
      return true;
    }
  }
  return false;
}

bool read_term(const wire::Term& in, int depth, Term* out);

bool read_elements(const wire::TermList& in, int depth, std::vector<Term>* out) {
  out->reserve(static_cast<size_t>(in.items_size()));
  for (const wire::Term& item : in.items()) {
    if (!read_term(item, depth + 1, &out->emplace_back())) return false;
  }
  return true;
}

// Bounded by `depth`, not by what `in` holds: stops at kMaxTermDepth.
bool read_term(const wire::Term& in, int depth, Term* out) {
  if (depth > kMaxTermDepth) return false;
  switch (in.value_case()) {
    case wire::Term::kAtom:
      *out = Term::atom(in.atom());
      return true;
    case wire::Term::kInteger:
      *out = Term::integer(in.integer());
      return true;
    case wire::Term::kFloating:
      *out = Term::floating(in.floating());
      return true;
    case wire::Term::kBinary:
      *out = Term::binary(in.binary());
      return true;
    case wire::Term::kTuple:
    case wire::Term::kList: {
      bool tuple = in.value_case() == wire::Term::kTuple;
      std::vector<Term> elements;
      if (!read_elements(tuple ? in.tuple() : in.list(), depth, &elements)) return false;
      *out = tuple ? Term::tuple(std::move(elements)) : Term::list(std::move(elements));
      return true;
    }
    case wire::Term::kMap: {
      std::vector<std::pair<Term, Term>> entries;
      entries.reserve(static_cast<size_t>(in.map().entries_size()));
      for (const wire::TermMapEntry& entry : in.map().entries()) {
        if (!entry.has_key() || !entry.has_value()) return false;
        auto& [key, value] = entries.emplace_back();
        if (!read_term(entry.key(), depth + 1, &key) ||
            !read_term(entry.value(), depth + 1, &value)) {
          return false;
        }
      }
      *out = Term::map(std::move(entries));
      return true;
    }
    case wire::Term::VALUE_NOT_SET:
      break;
  }
  return false;
}

void write_undecodable(wire::Reason* out) {
  out->set_kind(wire::Reason::ERROR);
  out->set_has_detail(true);
  out->set_detail(std::string(kUndecodableReason));
  out->clear_term();
}

}  // namespace

bool to_proto(const Term& term, wire::Term* out) { return write_term(term, 1, out); }

bool from_proto(const wire::Term& in, Term* out) {
  Term term;
  if (!read_term(in, 1, &term)) return false;
  *out = std::move(term);
  return true;
}

void to_proto(const ExitReason& reason, wire::Reason* out) {
  out->set_kind(static_cast<wire::Reason::Kind>(reason.kind()));
  out->set_has_detail(reason.has_detail());
  out->set_detail(std::string(reason.detail()));
  if (const Term* term = reason.term()) {
    if (!to_proto(*term, out->mutable_term())) write_undecodable(out);
  } else {
    out->clear_term();
  }
}

ExitReason from_proto(const wire::Reason& reason) {
  switch (reason.kind()) {
    case wire::Reason::NORMAL:
      return ExitReason::normal();
    case wire::Reason::KILL:
      return ExitReason::kill();
    case wire::Reason::KILLED:
      return ExitReason::killed();
    case wire::Reason::SHUTDOWN:
      return reason.has_detail() ? ExitReason::shutdown(reason.detail()) : ExitReason::shutdown();
    case wire::Reason::NOPROC:
      return ExitReason::noproc();
    case wire::Reason::NOCONNECTION:
      return ExitReason::noconnection();
    case wire::Reason::EXCEPTION: {
      // The detail is "<type>: <what>" already.
      std::string_view d = reason.detail();
      size_t colon = d.find(": ");
      if (colon == std::string_view::npos) return ExitReason::exception("unknown", d);
      return ExitReason::exception(d.substr(0, colon), d.substr(colon + 2));
    }
    case wire::Reason::ERROR:
    default:
      // An unknown kind from a newer peer is still an abnormal reason.
      if (reason.kind() == wire::Reason::ERROR && reason.has_term()) {
        Term term;
        if (!from_proto(reason.term(), &term)) return ExitReason::error(kUndecodableReason);
        return ExitReason::error(std::move(term));
      }
      return ExitReason::error(reason.detail());
  }
}

}  // namespace plexus

#include "plexus/term.h"

#include <algorithm>
#include <array>
#include <bit>
#include <charconv>
#include <cmath>

namespace plexus {

// One node per non-empty term; only the fields of its type are used.
struct Term::Node {
  Type type = Type::kList;
  int64_t integer = 0;
  double floating = 0;
  std::string text;  // atom name or binary bytes
  std::vector<Term> elements;
  std::vector<std::pair<Term, Term>> entries;
};

namespace {

const std::vector<Term>& no_elements() {
  static const std::vector<Term> empty;
  return empty;
}

const std::vector<std::pair<Term, Term>>& no_entries() {
  static const std::vector<std::pair<Term, Term>> empty;
  return empty;
}

bool is_lower(char c) { return c >= 'a' && c <= 'z'; }

bool is_name_char(char c) {
  return is_lower(c) || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '@';
}

// Erlang's reserved words: as atoms they must be quoted.
bool is_reserved(std::string_view name) {
  static constexpr std::array<std::string_view, 29> kReserved = {
      "after", "and",   "andalso", "band",   "begin",   "bnot", "bor", "bsl",  "bsr", "bxor",
      "case",  "catch", "cond",    "div",    "else",    "end",  "fun", "if",   "let", "maybe",
      "not",   "of",    "or",      "orelse", "receive", "rem",  "try", "when", "xor"};
  return std::find(kReserved.begin(), kReserved.end(), name) != kReserved.end();
}

bool needs_quotes(std::string_view name) {
  if (name.empty() || !is_lower(name[0])) return true;
  if (!std::all_of(name.begin(), name.end(), is_name_char)) return true;
  return is_reserved(name);
}

// Appends `s` between `quote`s, escaped as an Erlang string or quoted atom.
// Bytes from 0x80 up are kept in atoms (UTF-8 names print as text) and
// escaped in binaries (which are bytes, not text).
void append_quoted(std::string& out, std::string_view s, char quote, bool escape_high) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += quote;
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == quote || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f || (u >= 0x80 && escape_high)) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += quote;
}

// Shortest text that reads back as the same double, in Erlang's float syntax:
// always a fraction ("42.0", not "42"), and "1.0e10" rather than "1e+10".
void append_float(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "nan";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-inf" : "inf";
    return;
  }
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  std::string_view text(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
  size_t e = text.find('e');
  std::string_view mantissa = text.substr(0, e);
  out += mantissa;
  if (mantissa.find('.') == std::string_view::npos) out += ".0";
  if (e == std::string_view::npos) return;
  std::string_view exponent = text.substr(e + 1);
  out += 'e';
  if (!exponent.empty() && (exponent[0] == '+' || exponent[0] == '-')) {
    if (exponent[0] == '-') out += '-';
    exponent.remove_prefix(1);
  }
  while (exponent.size() > 1 && exponent[0] == '0') exponent.remove_prefix(1);
  out += exponent;
}

void append_term(std::string& out, const Term& t);

void append_sequence(std::string& out, const std::vector<Term>& elements, char open, char close) {
  out += open;
  for (size_t i = 0; i < elements.size(); ++i) {
    if (i > 0) out += ',';
    append_term(out, elements[i]);
  }
  out += close;
}

void append_term(std::string& out, const Term& t) {
  switch (t.type()) {
    case Term::Type::kAtom:
      if (needs_quotes(t.atom_name())) {
        append_quoted(out, t.atom_name(), '\'', /*escape_high=*/false);
      } else {
        out += t.atom_name();
      }
      return;
    case Term::Type::kInteger:
      out += std::to_string(t.integer());
      return;
    case Term::Type::kFloat:
      append_float(out, t.floating());
      return;
    case Term::Type::kBinary:
      out += "<<";
      append_quoted(out, t.binary(), '"', /*escape_high=*/true);
      out += ">>";
      return;
    case Term::Type::kTuple:
      append_sequence(out, t.elements(), '{', '}');
      return;
    case Term::Type::kList:
      append_sequence(out, t.elements(), '[', ']');
      return;
    case Term::Type::kMap: {
      out += "#{";
      bool first = true;
      for (const auto& [key, value] : t.entries()) {
        if (!first) out += ',';
        first = false;
        append_term(out, key);
        out += " => ";
        append_term(out, value);
      }
      out += '}';
      return;
    }
  }
}

}  // namespace

Term Term::atom(std::string_view name) {
  auto node = std::make_shared<Node>();
  node->type = Type::kAtom;
  node->text = name;
  return Term(std::move(node));
}

Term Term::integer(int64_t value) {
  auto node = std::make_shared<Node>();
  node->type = Type::kInteger;
  node->integer = value;
  return Term(std::move(node));
}

Term Term::floating(double value) {
  auto node = std::make_shared<Node>();
  node->type = Type::kFloat;
  node->floating = value;
  return Term(std::move(node));
}

Term Term::binary(std::string_view bytes) {
  auto node = std::make_shared<Node>();
  node->type = Type::kBinary;
  node->text = bytes;
  return Term(std::move(node));
}

Term Term::tuple(std::vector<Term> elements) {
  auto node = std::make_shared<Node>();
  node->type = Type::kTuple;
  node->elements = std::move(elements);
  return Term(std::move(node));
}

Term Term::list(std::vector<Term> elements) {
  if (elements.empty()) return Term();
  auto node = std::make_shared<Node>();
  node->type = Type::kList;
  node->elements = std::move(elements);
  return Term(std::move(node));
}

Term Term::map(std::vector<std::pair<Term, Term>> entries) {
  auto node = std::make_shared<Node>();
  node->type = Type::kMap;
  node->entries = std::move(entries);
  return Term(std::move(node));
}

Term::Type Term::type() const { return node_ ? node_->type : Type::kList; }

bool Term::is_atom(std::string_view name) const {
  return type() == Type::kAtom && node_->text == name;
}

std::string_view Term::atom_name() const {
  return type() == Type::kAtom ? std::string_view(node_->text) : std::string_view();
}

int64_t Term::integer() const { return type() == Type::kInteger ? node_->integer : 0; }

double Term::floating() const { return type() == Type::kFloat ? node_->floating : 0.0; }

std::string_view Term::binary() const {
  return type() == Type::kBinary ? std::string_view(node_->text) : std::string_view();
}

const std::vector<Term>& Term::elements() const {
  Type t = type();
  return node_ && (t == Type::kTuple || t == Type::kList) ? node_->elements : no_elements();
}

const std::vector<std::pair<Term, Term>>& Term::entries() const {
  return type() == Type::kMap ? node_->entries : no_entries();
}

size_t Term::size() const { return type() == Type::kMap ? entries().size() : elements().size(); }

std::string Term::to_string() const {
  std::string out;
  append_term(out, *this);
  return out;
}

bool operator==(const Term& a, const Term& b) {
  if (a.node_ == b.node_) return true;
  if (a.type() != b.type()) return false;
  switch (a.type()) {
    case Term::Type::kAtom:
    case Term::Type::kBinary:
      return a.node_->text == b.node_->text;
    case Term::Type::kInteger:
      return a.node_->integer == b.node_->integer;
    case Term::Type::kFloat:
      return std::bit_cast<uint64_t>(a.node_->floating) ==
                 std::bit_cast<uint64_t>(b.node_->floating) ||
             (std::isnan(a.node_->floating) && std::isnan(b.node_->floating));
    case Term::Type::kTuple:
    case Term::Type::kList:
      return a.elements() == b.elements();
    case Term::Type::kMap:
      return a.entries() == b.entries();
  }
  return false;
}

std::ostream& operator<<(std::ostream& os, const Term& term) { return os << term.to_string(); }

}  // namespace plexus

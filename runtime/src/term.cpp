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

// Appends `s` between single quotes, escaped as an Erlang quoted atom.
// Bytes from 0x80 up are kept (UTF-8 names print as text).
void append_quoted_atom(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  out += '\'';
  for (char c : s) {
    auto u = static_cast<unsigned char>(c);
    if (c == '\'' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\r') {
      out += "\\r";
    } else if (u < 0x20 || u == 0x7f) {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '\'';
}

// The escape ~p writes for a character of a printable string, or 0 if it
// is written as itself.
char escape_of(int c) {
  switch (c) {
    case '\n':
      return 'n';
    case '\r':
      return 'r';
    case '\t':
      return 't';
    case '\v':
      return 'v';
    case '\b':
      return 'b';
    case '\f':
      return 'f';
    case 27:
      return 'e';
    case '"':
      return '"';
    case '\\':
      return '\\';
    default:
      return 0;
  }
}

// A character io_lib:printable_latin1_list/1 accepts (what ~p prints as a
// string by default): printable ASCII, Latin-1 from 160 up, and the
// characters that have an escape.
bool printable_latin1(int64_t c) {
  return (c >= 32 && c <= 126) || (c >= 160 && c <= 255) ||
         (c >= 0 && c < 32 && escape_of(static_cast<int>(c)) != 0);
}

// Appends the Latin-1 character `c` of a printable string, escaped as ~p
// escapes it. Latin-1 from 160 up is written as UTF-8.
void append_string_char(std::string& out, int c) {
  if (char e = escape_of(c)) {
    out += '\\';
    out += e;
  } else if (c >= 0x80) {
    out += static_cast<char>(0xC0 | (c >> 6));
    out += static_cast<char>(0x80 | (c & 0x3F));
  } else {
    out += static_cast<char>(c);
  }
}

// A float as Erlang/OTP 25's ~p writes it (io_lib_format:fwrite_g/1): the
// shortest digits that read back as the same double, then whichever of the
// plain and the exponent forms is shorter ("0.0001", "1.0e-5", "100.0",
// "1.0e3"), the exponent form from 2^53 up.
void append_float(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "nan";
    return;
  }
  if (std::isinf(value)) {
    out += value < 0 ? "-inf" : "inf";
    return;
  }
  if (value == 0) {
    out += std::signbit(value) ? "-0.0" : "0.0";
    return;
  }
  if (value < 0) out += '-';
  double magnitude = std::fabs(value);
  // The shortest digits: "d.ddde[+-]x"; value = 0.S x 10^place.
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), magnitude, std::chars_format::scientific);
  std::string_view text(buf, ec == std::errc() ? static_cast<size_t>(end - buf) : 0);
  size_t e = text.find('e');
  std::string digits;
  for (char c : text.substr(0, e)) {
    if (c != '.') digits += c;
  }
  int exponent = 0;
  std::from_chars(text.data() + e + 1 + (text[e + 1] == '+'), text.data() + text.size(), exponent);
  const int length = static_cast<int>(digits.size());
  const int place = exponent + 1;
  auto exp_form = [&] {
    out += digits[0];
    out += '.';
    out += length == 1 ? std::string_view("0") : std::string_view(digits).substr(1);
    out += 'e';
    out += std::to_string(place - 1);
  };
  if (place == 0) {
    out += "0.";
    out += digits;
    return;
  }
  if (place > 0 && place < length) {
    out += std::string_view(digits).substr(0, place);
    out += '.';
    out += std::string_view(digits).substr(place);
    return;
  }
  const int exp_cost =
      static_cast<int>(std::to_string(place - 1).size()) + 1 + (length == 1 ? 2 : 1);
  if (place < 0) {
    if (2 - place <= exp_cost) {
      out += "0.";
      out.append(static_cast<size_t>(-place), '0');
      out += digits;
    } else {
      exp_form();
    }
    return;
  }
  if (place - length + 2 <= exp_cost && magnitude < 9007199254740992.0) {  // 2^53
    out += digits;
    out.append(static_cast<size_t>(place - length), '0');
    out += ".0";
  } else {
    exp_form();
  }
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
        append_quoted_atom(out, t.atom_name());
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
    case Term::Type::kBinary: {
      std::string_view bytes = t.binary();
      out += "<<";
      if (std::all_of(bytes.begin(), bytes.end(),
                      [](char c) { return printable_latin1(static_cast<unsigned char>(c)); })) {
        if (!bytes.empty()) {
          out += '"';
          for (char c : bytes) append_string_char(out, static_cast<unsigned char>(c));
          out += '"';
        }
      } else {
        for (size_t i = 0; i < bytes.size(); ++i) {
          if (i > 0) out += ',';
          out += std::to_string(static_cast<unsigned char>(bytes[i]));
        }
      }
      out += ">>";
      return;
    }
    case Term::Type::kTuple:
      append_sequence(out, t.elements(), '{', '}');
      return;
    case Term::Type::kList: {
      // A list of printable Latin-1 character codes is a string, as ~p shows it.
      const std::vector<Term>& items = t.elements();
      bool text = !items.empty() && std::all_of(items.begin(), items.end(), [](const Term& i) {
        return i.type() == Term::Type::kInteger && printable_latin1(i.integer());
      });
      if (!text) {
        append_sequence(out, items, '[', ']');
        return;
      }
      out += '"';
      for (const Term& i : items) append_string_char(out, static_cast<int>(i.integer()));
      out += '"';
      return;
    }
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

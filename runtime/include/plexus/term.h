// Erlang-like values: what an exit reason such as `{badmatch,[1,2,3]}` is made of.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace plexus {

// An immutable Erlang-like value: an atom, an integer, a float, a binary, or a
// tuple, list or map of terms.
//
//   Term reason = Term::tuple({Term::atom("badmatch"),
//                              Term::list({Term::integer(1), Term::integer(2)})});
//   reason.to_string();  // "{badmatch,[1,2]}"
//
// Copying is cheap: a term is one shared pointer to an immutable node, so the
// copies of a term (and the terms that contain it) share its storage. A Term
// can be read from several threads at once.
//
// A default-constructed Term is the empty list `[]` (Erlang's nil); it
// allocates nothing.
//
// Differences from Erlang, for what exit reasons need:
//   - integers are 64-bit (no bignums);
//   - maps keep their entries in the order given, duplicates included, and
//     `==` compares them in that order (there is no term order to sort by);
//   - floats compare bit for bit, like Erlang's `=:=` (so `0.0 != -0.0`),
//     except that all NaNs are equal, so that every term equals its copies
//     (Erlang has no NaN or infinity; they print as `nan`, `inf`, `-inf`).
//
// Printing, comparing and destroying a term recurse on its depth; terms read
// from the wire are limited in depth (see plexus/node/exit_reason_proto.h).
class Term {
 public:
  enum class Type : uint8_t { kAtom, kInteger, kFloat, kBinary, kTuple, kList, kMap };

  // The empty list `[]`.
  Term() = default;

  // An atom: a constant known by its name, such as `badarg` or `'EXIT'`.
  static Term atom(std::string_view name);
  static Term integer(int64_t value);
  // A float. (Not `float`: that is a C++ keyword.)
  static Term floating(double value);
  // A binary: any bytes, `<<"text">>` in Erlang.
  static Term binary(std::string_view bytes);
  // `{e1, e2, ...}`: a fixed-size group.
  static Term tuple(std::vector<Term> elements);
  // `[e1, e2, ...]`: a proper list.
  static Term list(std::vector<Term> elements);
  // `#{k1 => v1, ...}`; see the class comment for the order of the entries.
  static Term map(std::vector<std::pair<Term, Term>> entries);

  Type type() const;
  bool is_atom() const { return type() == Type::kAtom; }
  // Whether this is the atom `name`.
  bool is_atom(std::string_view name) const;

  // The accessors below give the value of the matching type. On a term of
  // another type they return an empty or zero value (never undefined
  // behaviour), so that code looking at an unexpected reason cannot crash.

  // The name of an atom ("" otherwise).
  std::string_view atom_name() const;
  // The value of an integer (0 otherwise).
  int64_t integer() const;
  // The value of a float (0.0 otherwise).
  double floating() const;
  // The bytes of a binary ("" otherwise).
  std::string_view binary() const;
  // The elements of a tuple or a list (empty otherwise).
  const std::vector<Term>& elements() const;
  // The entries of a map (empty otherwise).
  const std::vector<std::pair<Term, Term>>& entries() const;
  // The number of elements of a tuple or list, or of entries of a map; 0 for
  // atoms, numbers and binaries.
  size_t size() const;

  // Erlang syntax, as `io:format("~p")` would print it: `foo`, `'Quoted atom'`,
  // `42`, `1.5`, `<<"bytes">>`, `{a,b}`, `[1,2]`, `#{k => v}`. Atoms are
  // quoted when Erlang would need it (not a plain lowercase name, or a reserved
  // word); quotes, backslashes and unprintable bytes are escaped (`\n`, `\xHH`).
  std::string to_string() const;

  friend bool operator==(const Term& a, const Term& b);

 private:
  struct Node;
  explicit Term(std::shared_ptr<const Node> node) : node_(std::move(node)) {}

  // Null for the empty list.
  std::shared_ptr<const Node> node_;
};

std::ostream& operator<<(std::ostream& os, const Term& term);

}  // namespace plexus

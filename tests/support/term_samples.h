// Terms the Term tests and the reason codec tests share.
#pragma once

#include <cstdint>
#include <string_view>

#include "plexus/term.h"

namespace plexus_test {

using plexus::Term;

inline Term a(std::string_view name) { return Term::atom(name); }
inline Term i(int64_t v) { return Term::integer(v); }

// `{badmatch,[1,2,3]}`
inline Term badmatch() { return Term::tuple({a("badmatch"), Term::list({i(1), i(2), i(3)})}); }

// One of every type, nested.
inline Term every_type() {
  return Term::tuple({
      a("error"),
      Term::list(
          {i(-7), Term::floating(2.5), Term::binary(std::string_view("b\"ytes\x00", 7)), Term()}),
      Term::map({{a("k"), Term::tuple({})},
                 {Term::binary("key"), Term::map({{i(1), Term::list({a("x"), a("Y")})}})}}),
  });
}

// A term of depth `depth` (>= 1): lists (or maps) one inside the other around
// an atom.
inline Term nested(int depth, bool maps = false) {
  Term t = a("core");
  for (int d = 1; d < depth; ++d) {
    t = maps ? Term::map({{i(d), t}}) : Term::list({t});
  }
  return t;
}

}  // namespace plexus_test

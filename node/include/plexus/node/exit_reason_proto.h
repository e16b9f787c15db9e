// Exit reasons and terms as protobuf messages (plexus.wire.Reason and
// plexus.wire.Term, proto/plexus/wire.proto): what a node sends in exit and
// down signals, for layers that put reasons into their own messages too.
#pragma once

#include <string_view>

#include "plexus/exit_reason.h"
#include "plexus/term.h"
#include "plexus/wire.pb.h"

namespace plexus {

// The deepest term that goes on the wire. A scalar or an empty tuple, list or
// map has depth 1; a tuple, list or map is one deeper than its deepest
// element, key or value (`{badmatch,[1,2,3]}` has depth 3).
//
// Why so low: a parser of protobuf refuses messages nested deeper than 100
// (the usual default, which bounds its stack), and each level of a map takes
// three (Term, TermMap, TermMapEntry). At 24 any term parses with room to spare
// for the messages around it (a Frame, or another layer's own).
inline constexpr int kMaxTermDepth = 24;

// The detail text of the reason that stands for one that cannot be sent or
// read: a term deeper than kMaxTermDepth, or a malformed wire::Term.
inline constexpr std::string_view kUndecodableReason = "<undecodable reason>";

// Writes `reason` to `out` (every field of `out` is set). An error(Term) reason
// whose term is deeper than kMaxTermDepth is written as
// ExitReason::error(kUndecodableReason), so that a peer never receives what
// it could not parse.
void to_proto(const ExitReason& reason, wire::Reason* out);

// Reads a reason written by to_proto, or by any peer: this is safe on
// untrusted input. A term deeper than kMaxTermDepth or malformed (no value
// set, a map entry without key or value) gives
// ExitReason::error(kUndecodableReason); an unknown kind gives an error reason
// with the detail (never `normal`); a term with a kind other than ERROR is
// ignored.
ExitReason from_proto(const wire::Reason& reason);

// Writes `term` to `out`. Returns false, leaving `out` unspecified, if the
// term is deeper than kMaxTermDepth.
bool to_proto(const Term& term, wire::Term* out);

// Reads `in` into `out`. Returns false, leaving `out` unchanged, if `in` is
// malformed or deeper than kMaxTermDepth. Never recurses deeper than
// kMaxTermDepth, whatever `in` holds.
bool from_proto(const wire::Term& in, Term* out);

}  // namespace plexus

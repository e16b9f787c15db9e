// How each kind of envelope crosses a connection: its kind on the wire, what it
// carries, and what it does to the links and monitors that cross to the peer.
// One table, read by the encoder, the decoder and the cross-node tables.
#pragma once

#include <optional>

#include "plexus/detail/envelope.h"
#include "plexus/wire.pb.h"

namespace plexus::detail {

// wire::Send::Kind of a message envelope (a call, reply, cast or plain message).
wire::Send::Kind send_kind(EnvelopeKind kind);
EnvelopeKind envelope_kind(wire::Send::Kind kind);

// What a signal does to the tables of links and monitors across one connection
// (CrossNodeTables), stated from its sender's side: `from` and `to` are the
// signal's sender and receiver, whichever node each is on.
enum class TieEffect {
  kNone,
  kLink,        // from and to are linked
  kUnlink,      // they are not (an unlink, or the exit signal a link carries)
  kWatch,       // from monitors to under the signal's ref
  kUnwatch,     // from no longer does
  kWatchEnded,  // to's monitor of from (the ref) fired: a Down
};

// What a signal envelope carries besides its sender and ref.
enum class SignalPayload {
  kNone,  // NoPayload
  kExit,  // Exit{from, reason}
  kDown,  // Down{ref, from, reason}
};

struct SignalKind {
  EnvelopeKind envelope;
  wire::Signal::Kind wire;
  TieEffect effect;
  SignalPayload payload;
  bool needs_from;  // a signal without a sender is malformed (all but EXIT and DOWN)
  bool needs_ref;   // a signal without a ref is malformed (monitors and downs)
};

// The row of a signal envelope kind; none for those that never cross nodes
// (timeouts, monitor adoptions) and for messages.
const SignalKind* signal_kind(EnvelopeKind kind);
// The row of a wire signal kind; none for a kind this node does not know.
const SignalKind* signal_kind(wire::Signal::Kind kind);

}  // namespace plexus::detail

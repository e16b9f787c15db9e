#include "inbound.h"

#include "peer.h"
#include "plexus/spi/distribution.h"
#include "signal_kinds.h"

namespace plexus::detail {

bool Inbound::on_send(Connection& conn, const wire::Send& send, std::string* error) {
  uint32_t type = send.type();
  if (!send.type_name().empty()) {
    if (type != conn.received_types.size() + 1) {
      *error = "type number " + std::to_string(type) + " out of order";
      return false;
    }
    conn.received_types.push_back({find_wire_type(send.type_name()), send.type_name()});
  }
  if (type == 0 || type > conn.received_types.size()) {
    *error = "message of unknown type number " + std::to_string(type);
    return false;
  }
  Pid to;
  if (send.has_to()) {
    to = ids_.decode(conn.peer_index(), send.to());
    if (to.node != 0) {
      runtime_.log(LogLevel::kWarning,
                   "dropped a message for " + to.to_string() + " that is not local");
      return true;
    }
  } else {
    to = runtime_.whereis(send.to_name());  // an unregistered name drops it, as in Erlang
  }
  if (!to) return true;
  const Connection::ReceivedType& received = conn.received_types[type - 1];
  EnvelopeKind kind = envelope_kind(send.kind());
  Envelope* env;
  if (received.type) {
    env = received.type->parse(send.payload().data(), send.payload().size(), kind);
    if (!env) {
      runtime_.log(LogLevel::kError, "a " + received.name + " from " + conn.peer()->name +
                                         " does not parse; dropped");
      return true;
    }
  } else {
    env = make_envelope<UnknownMessage>(kind, UnknownMessage{received.name, send.payload()});
  }
  if (send.has_from()) env->from = ids_.decode(conn.peer_index(), send.from());
  if (send.has_ref()) env->ref = ids_.decode(conn.peer_index(), send.ref());
  spi::deliver(runtime_, to, env);
  return true;
}

bool Inbound::on_signal(Connection& conn, const wire::Signal& signal, std::string* error) {
  Pid from = signal.has_from() ? ids_.decode(conn.peer_index(), signal.from()) : Pid{};
  Ref ref = signal.has_ref() ? ids_.decode(conn.peer_index(), signal.ref()) : Ref{};
  ExitReason reason = signal.has_reason() ? from_wire(signal.reason()) : ExitReason();
  const SignalKind* kind = signal_kind(signal.kind());
  if (!kind) {
    *error = "unknown signal kind " + std::to_string(signal.kind());
    return false;
  }
  if ((kind->needs_from && !from) || (kind->needs_ref && !ref)) {
    *error = "signal without its sender or ref";
    return false;
  }
  bool by_name = !signal.to_name().empty();
  if (by_name && kind->envelope != EnvelopeKind::kMonitor &&
      kind->envelope != EnvelopeKind::kDemonitor) {
    *error = "a signal by name that is not a monitor or demonitor";
    return false;
  }
  Pid to = by_name ? Pid{} : ids_.decode(conn.peer_index(), signal.to());
  if (!by_name && (!to || to.node != 0)) {
    runtime_.log(LogLevel::kWarning, "dropped a signal for a pid that is not local");
    return true;
  }
  {
    Peer& peer = *conn.peer();
    MutexLock lock(peer.mu);
    if (by_name && kind->envelope == EnvelopeKind::kMonitor) {
      // The name's process now; none: the monitor is answered noproc.
      to = runtime_.whereis(signal.to_name());
    } else if (by_name) {
      // The process the monitor by name found; none: its Down has crossed.
      auto it = peer.tables.monitors_in.find(ref);
      if (it == peer.tables.monitors_in.end()) return true;
      to = it->second.second;
    }
    peer.tables.apply(kind->effect, Crossing::kIn, from, to, ref);
  }
  switch (kind->payload) {
    case SignalPayload::kNone:
      spi::signal<NoPayload>(runtime_, to, kind->envelope, from, ref);
      break;
    case SignalPayload::kExit:
      if (kind->envelope == EnvelopeKind::kExit) {
        spi::exit_signal(runtime_, from, to, std::move(reason));  // a kill's rules apply
      } else {
        spi::signal<Exit>(runtime_, to, kind->envelope, from, ref, Exit{from, std::move(reason)});
      }
      break;
    case SignalPayload::kDown:
      spi::signal<Down>(runtime_, to, kind->envelope, from, ref,
                        Down{ref, from, std::move(reason)});
      break;
  }
  return true;
}

}  // namespace plexus::detail

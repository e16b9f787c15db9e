#include "outbound.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "connection.h"
#include "frame_codec.h"
#include "signal_kinds.h"

namespace plexus::detail {

namespace {

// The peers whose writes this thread's current turn put off (see kick).
struct TurnWrite {
  Outbound* outbound;
  Peer* peer;
};
thread_local std::vector<TurnWrite> t_turn_writes;

// Queued bytes above which a turn hands its writes to the loop at once
// rather than writing them itself when it ends.
constexpr size_t kTurnWriteLimit = 64 * 1024;

// Serializes an envelope's payload straight into the output (PayloadWriter).
struct PayloadState {
  const WireType* type;
  Envelope* env;
};
uint8_t* write_payload(const void* state, uint8_t* to) {
  auto* s = static_cast<const PayloadState*>(state);
  return s->type->serialize(s->env, to);
}

}  // namespace

void Outbound::route(Pid to, Envelope* env) {
  std::optional<NodeEntry> e = table_.get(to.node);
  if (!e || !e->peer) {
    // An incarnation that is gone (its slot was reused), or an earlier one of
    // this node: the process is not there.
    spi::answer_dead(runtime_, to, env, ExitReason::noproc());
    return;
  }
  Peer& peer = *e->peer;
  MutexLock lock(peer.mu);
  if (peer.creation != e->creation) {
    if (peer.creation != 0 && peer.in_use()) {
      // An incarnation other than the one in use: it is gone, and so is the
      // process (Erlang answers a pid of a node's earlier incarnation with
      // noproc, not noconnection: the node is there).
      lock.unlock();
      spi::answer_dead(runtime_, to, env, ExitReason::noproc());
      return;
    }
    peer.creation = e->creation;
    peer.index = to.node;
  }
  if (!queue(peer, Outgoing{.env = env, .to = to})) {
    lock.unlock();
    spi::answer_dead(runtime_, to, env, ExitReason::noconnection());
  }
}

Status Outbound::send_named(const std::string& node_name, const std::string& to_name,
                            Envelope* env) {
  Peer* peer = peers_.get(node_name);
  if (!peer) {
    spi::answer_dead(runtime_, Pid{}, env, ExitReason::noconnection());
    return Status(StatusCode::kInvalidArgument, "bad node name '" + node_name + "'");
  }
  MutexLock lock(peer->mu);
  // A registered name is any incarnation's: it goes to the one connected.
  if (!queue(*peer, Outgoing{.env = env, .to_name = to_name})) {
    lock.unlock();
    spi::answer_dead(runtime_, Pid{}, env, ExitReason::noconnection());
  }
  return Status::OK();
}

bool Outbound::send_frame(Peer& peer, const wire::Frame& frame) {
  MutexLock lock(peer.mu);
  return queue(peer, Outgoing{.frame = &frame});
}

bool Outbound::queue(Peer& peer, const Outgoing& what) {
  if (!peer.up && !peer.connecting) dial(peer);
  if (!make_room(peer)) return false;
  if (what.frame) {
    peer.out.append(*what.frame);
  } else {
    encode(peer, what.to, what.to_name, what.env);
  }
  kick(peer);
  return true;
}

void Outbound::dial(Peer& peer) {
  peer.connecting = true;
  backend_.post([this, &peer] { backend_.connect(peer, options_.connect_timeout); });
}

void Outbound::encode(Peer& peer, Pid to, std::string_view to_name, Envelope* env) {
  std::unique_ptr<Envelope> owned(env);
  WirePid wto{to.index, to.serial, {wire::RECEIVER, nullptr, 0}};
  WirePid wfrom;
  WireRef wref;
  bool has_from = env->from.valid();
  bool has_ref = env->ref.valid();
  if (has_from) wfrom = ids_.encode(peer.index, env->from);
  if (has_ref) wref = ids_.encode(peer.index, env->ref);
  if (!is_signal(env->kind)) {
    auto it = peer.sent_types.find(env->type);
    std::string type_name;
    if (it == peer.sent_types.end()) {
      const WireType* type = find_wire_type(env->type);
      if (!type) {
        runtime_.log(LogLevel::kError, "a message of a type that cannot cross nodes was sent to " +
                                           peer.name + "; dropped");
        return;
      }
      it = peer.sent_types
               .emplace(env->type,
                        std::make_pair(static_cast<uint32_t>(peer.sent_types.size() + 1), type))
               .first;
      type_name = type->name();
    }
    PayloadState state{it->second.second, env};
    SendFields send;
    send.kind = send_kind(env->kind);
    if (to_name.empty()) {
      send.to = &wto;
    } else {
      send.to_name = to_name;
    }
    send.from = has_from ? &wfrom : nullptr;
    send.ref = has_ref ? &wref : nullptr;
    send.type = it->second.first;
    send.type_name = type_name;
    send.payload = PayloadWriter{state.type->byte_size(env), &write_payload, &state};
    append_send(send, peer.out.frame_buffer());
    return;
  }
  const SignalKind* kind = signal_kind(env->kind);
  if (!kind) return;  // timeouts and adoptions never cross nodes
  peer.tables.apply(kind->effect, Crossing::kOut, env->from, to, env->ref);
  SignalFields signal;
  signal.kind = kind->wire;
  signal.to = wto;
  signal.to_name = to_name;
  signal.from = has_from ? &wfrom : nullptr;
  signal.ref = has_ref ? &wref : nullptr;
  switch (kind->payload) {
    case SignalPayload::kNone:
      break;
    case SignalPayload::kExit:
      signal.reason = &payload<Exit>(env).reason;
      break;
    case SignalPayload::kDown:
      signal.reason = &payload<Down>(env).reason;
      break;
  }
  append_signal(signal, peer.out.frame_buffer());
}

void Outbound::kick(Peer& peer) {
  if (!peer.up) return;
  if (peer.out.direct_open() && spi::in_turn() &&
      peer.out.size() < std::min(kTurnWriteLimit, options_.max_send_buffer)) {
    // A process's turn: it writes when it ends (end_of_turn), saving the
    // loop's wake-up, and its sends leave together.
    for (const TurnWrite& w : t_turn_writes) {
      if (w.peer == &peer) return;
    }
    t_turn_writes.push_back({this, &peer});
    spi::defer_to_end_of_turn(&distribution_);
    return;
  }
  post_flush(peer);
}

void Outbound::end_of_turn() {
  // Swapped out first: a write may take a peer's lock, never this list's.
  std::vector<TurnWrite> writes;
  writes.swap(t_turn_writes);
  for (const TurnWrite& w : writes) w.outbound->write_now(*w.peer);
  writes.clear();
  if (t_turn_writes.empty()) t_turn_writes.swap(writes);  // keep the capacity
}

void Outbound::post_flush(Peer& peer) {
  if (!peer.up || peer.out.flush_posted) return;
  peer.out.flush_posted = true;
  backend_.post([conn = peer.up] { conn->flush(); });
}

void Outbound::write_now(Peer& peer) {
  std::vector<Pid> drained;
  {
    MutexLock lock(peer.mu);
    if (peer.out.empty()) return;
    if (peer.out.direct_open() && peer.out.write_direct()) {
      drained = peer.take_suspended();
    } else {
      // Full, failed or not open: the loop writes the rest (and handles the error).
      post_flush(peer);
    }
  }
  resume_senders(std::move(drained));
}

void Outbound::disconnect_full(Peer& peer, const std::string& why) {
  if (!peer.up || peer.out.closing) return;  // once per connection
  peer.out.closing = true;
  runtime_.log(LogLevel::kWarning, "disconnecting " + peer.name + ": " + why);
  backend_.post([conn = peer.up, why] { conn->close(why); });
}

bool Outbound::make_room(Peer& peer) {
  const size_t limit = options_.max_send_buffer;
  if (peer.out.size() < limit) return true;
  peer.out.note_size(limit, backend_.now());
  if (backend_.on_loop()) {
    disconnect_full(peer, "send buffer full (" + std::to_string(limit) + " bytes)");
    return false;
  }
  if (spi::in_turn() && peer.out.size() < 2 * limit) {
    // Only the sender waits, suspended from the end of its turn.
    if (Pid me = spi::suspend_current()) {
      if (std::find(peer.suspended_senders.begin(), peer.suspended_senders.end(), me) ==
          peer.suspended_senders.end()) {
        peer.suspended_senders.push_back(me);
      }
    }
    return peer.up || peer.connecting;
  }
  return wait_for_room(peer);
}

void Outbound::resume_senders(std::vector<Pid> senders) {
  for (Pid p : senders) spi::resume(runtime_, p);
}

bool Outbound::wait_for_room(Peer& peer) {
  if (spi::in_turn()) {
    // A turn past twice the limit (it sends without end): its thread waits,
    // as the last resort. What it put off for other peers leaves first.
    peer.mu.unlock();
    spi::before_blocking();
    peer.mu.lock();
  }
  auto deadline = backend_.now() + options_.tick_timeout;
  while (peer.out.size() >= options_.max_send_buffer && (peer.up || peer.connecting)) {
    if (!backend_.wait(peer.mu, peer.out.drained, deadline) &&
        peer.out.size() >= options_.max_send_buffer) {
      disconnect_full(
          peer, "send buffer stalled for " + std::to_string(options_.tick_timeout.count()) + " ms");
      return false;
    }
  }
  return peer.up || peer.connecting;
}

}  // namespace plexus::detail

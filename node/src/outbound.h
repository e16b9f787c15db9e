// Outbound: how envelopes and frames leave this node for a peer.
#pragma once

#include <string>
#include <string_view>

#include "backend.h"
#include "node_table.h"
#include "peer.h"
#include "peer_directory.h"
#include "plexus/node/options.h"
#include "plexus/runtime.h"
#include "plexus/spi/distribution.h"
#include "wire_ids.h"

namespace plexus::detail {

// Encodes envelopes into their peer's OutQueue and has them written: by the
// loop, or (a process's turn, a plain TCP connection the loop is not writing
// to) by the sender when its turn ends. Thread-safe: senders call it from
// any thread, the loop for its own frames.
class Outbound {
 public:
  // `distribution` is the node's, whose end_of_turn() calls end_of_turn().
  Outbound(Runtime& runtime, spi::Distribution& distribution, const NodeOptions& options,
           Backend& backend, NodeTable& table, PeerDirectory& peers, WireIds& ids)
      : runtime_(runtime),
        distribution_(distribution),
        options_(options),
        backend_(backend),
        table_(table),
        peers_(peers),
        ids_(ids) {}

  // ---- From senders (any thread)
  // An envelope for a process on another node (spi::Distribution::route).
  void route(Pid to, Envelope* env);
  // An envelope for the process registered as `to_name` on `node_name` (a
  // message, or a monitor or demonitor by name); one that cannot go is
  // answered as spi::answer_dead(Pid{}, env, noconnection) does.
  Status send_named(const std::string& node_name, const std::string& to_name, Envelope* env);
  // A control frame (a spawn request); false if it was dropped.
  bool send_frame(Peer& peer, const wire::Frame& frame);
  // Writes what this thread's turn put off (spi::Distribution::end_of_turn).
  static void end_of_turn();

  // ---- The one way into a peer's queue
  // What a sender appends: an envelope for a pid or a registered name, or a
  // control frame.
  struct Outgoing {
    Envelope* env = nullptr;  // deleted once encoded
    Pid to;
    std::string_view to_name;
    const wire::Frame* frame = nullptr;
  };
  // Connects if nothing is connected or connecting, waits for room
  // (wait_for_room), appends `what` and has it written. False, with `what`
  // untouched, if the peer stayed full or was lost.
  bool queue(Peer& peer, const Outgoing& what) PLEXUS_REQUIRES(peer.mu);
  // Appends the loop's own frame (a tick, gossip, a spawn reply) at once,
  // room or not, and has it written.
  void queue_now(Peer& peer, const wire::Frame& frame) PLEXUS_REQUIRES(peer.mu) {
    peer.out.append(frame);
    kick(peer);
  }
  // Room for one more frame in the peer's queue. Under the limit: yes. Over
  // it: a process's turn goes on and the process is suspended when the turn
  // ends, until the queue drains (its thread never waits, up to twice the
  // limit); a thread outside any process waits; the loop, which never waits,
  // disconnects the peer. False if the frame must be dropped (the peer is
  // lost, or disconnected for it).
  bool make_room(Peer& peer) PLEXUS_REQUIRES(peer.mu);
  // Resumes the senders suspended on `peer`'s queue (it drained, or the peer
  // is gone).
  void resume_senders(std::vector<Pid> senders);
  // Closes the peer's connection from the loop, once, for a full queue.
  void disconnect_full(Peer& peer, const std::string& why) PLEXUS_REQUIRES(peer.mu);
  // Marks the peer connecting and starts an outgoing connection.
  void dial(Peer& peer) PLEXUS_REQUIRES(peer.mu);

 private:
  // Appends `env` for `to` (or for the registered name `to_name`) to the
  // peer's queue and deletes it.
  void encode(Peer& peer, Pid to, std::string_view to_name, Envelope* env) PLEXUS_REQUIRES(peer.mu);
  // After frames were queued: has them written, now or at the end of the
  // running process's turn.
  void kick(Peer& peer) PLEXUS_REQUIRES(peer.mu);
  // Posts a flush to the loop unless one is on its way.
  void post_flush(Peer& peer) PLEXUS_REQUIRES(peer.mu);
  // Writes the peer's queue to its socket from this thread if the loop is not
  // writing, else leaves it to the loop.
  void write_now(Peer& peer) PLEXUS_EXCLUDES(peer.mu);
  // Waits (a thread outside any process) while the queue is full; false if
  // the peer was lost or did not drain within tick_timeout.
  bool wait_for_room(Peer& peer) PLEXUS_REQUIRES(peer.mu);

  Runtime& runtime_;
  spi::Distribution& distribution_;
  const NodeOptions& options_;
  Backend& backend_;
  NodeTable& table_;
  PeerDirectory& peers_;
  WireIds& ids_;
};

}  // namespace plexus::detail

// Membership: which peers this node is connected to, and what follows when
// a connection comes up or goes down.
#pragma once

#include <atomic>
#include <concepts>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "backend.h"
#include "connection.h"
#include "inbound.h"
#include "node_table.h"
#include "outbound.h"
#include "peer_directory.h"
#include "plexus/detail/mutex.h"
#include "plexus/node/options.h"
#include "remote_spawn.h"

namespace plexus::detail {

// The node's identity, fixed once it listens.
struct NodeIdentity {
  std::string name;
  uint64_t creation = 0;
  std::string cookie;
  bool hidden = false;  // NodeOptions::hidden
};

// The host of every connection (backend.h): admits and settles races,
// makes a connection its peer's, dispatches frames, and on a loss fires the
// peer's links and monitors and tells the watchers. Connects on demand, to
// seeds until they answer, and to the members the peers gossip about (a
// full mesh); ticks idle connections and closes silent ones.
//
// Threads: the ConnectionHost calls, tick() and the loop-only state below
// run on the loop; connect, disconnect, subscribe and the rest are called
// from any thread.
class Membership final : public ConnectionHost {
 public:
  Membership(Runtime& runtime, const NodeOptions& options, const NodeIdentity& self,
             Backend& backend, NodeTable& table, PeerDirectory& peers, Outbound& outbound,
             Inbound& inbound, RemoteSpawn& spawn)
      : runtime_(runtime),
        options_(options),
        self_(self),
        backend_(backend),
        table_(table),
        peers_(peers),
        outbound_(outbound),
        inbound_(inbound),
        spawn_(spawn) {}

  // ---- Any thread
  // Starts an outgoing connection unless one exists or is being made.
  void connect_async(Peer& peer);
  // Connects and waits for the handshake (not on the loop).
  Status connect_blocking(const std::string& node_name);
  void disconnect(const std::string& node_name);
  // Node::block / unblock / blocked.
  void block(const std::vector<std::string>& peers) PLEXUS_EXCLUDES(blocked_mu_);
  void unblock(const std::vector<std::string>& peers) PLEXUS_EXCLUDES(blocked_mu_);
  std::vector<std::string> blocked() const PLEXUS_EXCLUDES(blocked_mu_);
  bool is_blocked(const std::string& peer) const PLEXUS_EXCLUDES(blocked_mu_);

  void subscribe(Pid pid) PLEXUS_EXCLUDES(subscribers_mu_);
  void unsubscribe(Pid pid) PLEXUS_EXCLUDES(subscribers_mu_);
  // Node::add_down_listener / remove_down_listener.
  uint64_t add_down_listener(std::function<void(uint32_t)> fn) PLEXUS_EXCLUDES(listeners_mu_);
  void remove_down_listener(uint64_t id) PLEXUS_EXCLUDES(listeners_mu_);
  void monitor_node(Pid watcher, const std::string& node_name);

  // The node stops: no new connections from now on.
  void begin_stop() { stopping_ = true; }

  // What the node's metrics report. The loop counts; any thread reads.
  struct Counters {
    std::atomic<uint64_t> nodes_up{0};            // connections that came up
    std::atomic<uint64_t> nodes_down{0};          // connections up, then lost
    std::atomic<uint64_t> handshake_failures{0};  // closed before they came up
    std::atomic<uint64_t> connect_failures{0};    // outgoing attempts that failed
  };
  const Counters& counters() const { return counters_; }

  // ---- On the loop
  // Every tick_timeout / 4: handshake and tick timeouts, ticks on idle
  // connections, gossip, seeds retried. Re-arms itself.
  void tick();
  // Closes every connection for a stopping node; end_loop() once all closed.
  void close_all();

  // ---- ConnectionHost
  Handshake connecting_handshake(const std::string& peer_name) override;
  Handshake accepting_handshake() override;
  void adopt(std::shared_ptr<Connection> conn) override;
  void outgoing_failed(Peer& peer, const std::string& reason) override;
  void accept_failed(const std::string& reason) override;
  wire::HelloReply::Status admit(const std::string& peer_name, uint64_t creation) override;
  bool on_up(const std::shared_ptr<Connection>& conn) override;
  bool on_frame(Connection& conn, const wire::Frame& frame, std::string* error) override;
  void on_closed(Connection& conn, const std::string& reason) override;
  void drained(std::vector<Pid> senders) override { outbound_.resume_senders(std::move(senders)); }
  size_t max_frame_size() const override { return options_.max_frame_size; }
  std::chrono::milliseconds handshake_timeout() const override { return options_.connect_timeout; }

 private:
  // Our connection lost a simultaneous-connect race: the peer's connection
  // to us is on its way; the attempt fails only if it never comes up.
  void awaiting_winner(Peer& peer);
  // An outgoing attempt failed (`level`: how bad its log line is): logged
  // with backoff, counted, and the peer lost if nothing else is under way.
  void connect_failed(Peer& peer, const std::string& reason, LogLevel level);
  // Takes the peer's tables for a lost incarnation and fires them; tells the
  // watchers. `was_up`: the node had been up.
  void lose(Peer& peer, const std::string& reason, bool was_up);
  void notify_nodes(const std::string& node_name, bool up, const std::string& reason,
                    std::vector<Pid> watchers) PLEXUS_EXCLUDES(subscribers_mu_);
  // Tells `peer` whom we are connected to.
  void gossip(Peer& peer);
  void log(LogLevel level, const std::string& text) const { runtime_.log(level, text); }
  // The same, formatting the line only if `level` is enabled.
  template <std::invocable F>
  void log(LogLevel level, F&& make_text) const {
    runtime_.log(level, std::forward<F>(make_text));
  }

  Runtime& runtime_;
  const NodeOptions& options_;
  const NodeIdentity& self_;
  Backend& backend_;
  NodeTable& table_;
  PeerDirectory& peers_;
  Outbound& outbound_;
  Inbound& inbound_;
  RemoteSpawn& spawn_;

  // Incoming connections admitted and still in their handshake, by the name
  // their Hello gave (loop only). Kept here, not in a Peer: a stranger who
  // never proves the cookie makes no Peer, and leaves nothing when it goes.
  int accepting(const std::string& name) const;
  // One admitted connection of `name` came up or closed.
  void admitted_done(const std::string& name);
  // Makes room under the caps on pending incoming handshakes for `conn`, a
  // new one: false if it must be refused.
  bool make_room_for(const Connection& conn);
  void pending_done(const Connection& conn);

  std::atomic<bool> stopping_{false};
  Counters counters_;
  // Loop only:
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
  std::unordered_map<std::string, int> accepting_;
  // Incoming connections not up yet, oldest first, and how many per host.
  std::list<Connection*> pending_in_;
  std::unordered_map<const Connection*, std::list<Connection*>::iterator> pending_at_;
  std::unordered_map<std::string, size_t> pending_per_host_;
  uint64_t gossip_round_ = 0;

  // Peers this node refuses (Node::block): written by any thread, read by
  // the loop at each handshake.
  mutable Mutex blocked_mu_;
  std::set<std::string> blocked_ PLEXUS_GUARDED_BY(blocked_mu_);
  Mutex subscribers_mu_;
  std::vector<Pid> subscribers_ PLEXUS_GUARDED_BY(subscribers_mu_);
  // Called on the loop, under the lock (so that removing one waits for its
  // call), as an incarnation is lost and before its NodeDowns go out.
  Mutex listeners_mu_;
  std::map<uint64_t, std::function<void(uint32_t)>> listeners_ PLEXUS_GUARDED_BY(listeners_mu_);
  uint64_t next_listener_ PLEXUS_GUARDED_BY(listeners_mu_) = 1;
};

}  // namespace plexus::detail

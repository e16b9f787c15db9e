// The node's internals: transport, membership, routing of remote envelopes.
#pragma once

#include <atomic>
#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "connection.h"
#include "node_name.h"
#include "node_table.h"
#include "peer.h"
#include "plexus/node.h"
#include "runtime_impl.h"

namespace plexus::detail {

class NodeImpl final : public Distribution {
 public:
  NodeImpl(Node& owner, NodeOptions options, NodeAddress address);
  ~NodeImpl() override;

  // Binds the listener and starts the I/O thread.
  Status start();
  // Stops every process, says goodbye to the peers, stops the I/O thread.
  void stop();

  Node& owner;
  const NodeOptions options;
  std::string name;
  uint64_t creation = 0;
  std::unique_ptr<Runtime> runtime;
  NodeTable table;
  boost::asio::io_context io;
  std::optional<boost::asio::ssl::context> tls;

  // ---- Distribution: an envelope for a process on another node.
  void route(Pid to, Envelope* env) override;

  // ---- Peers
  // The peer of `node_name` (made on first use); null for an invalid name.
  Peer* peer_for(const std::string& node_name);
  // Starts an outgoing connection unless one exists (any thread).
  void connect_async(Peer& peer);
  Status connect_blocking(const std::string& node_name);
  void disconnect(const std::string& node_name);
  std::vector<std::string> connected_nodes() const;
  // Queues `frame` for `peer` and connects if needed (any thread); false if
  // the peer's queue stayed full (see wait_for_room) and the frame was dropped.
  bool queue_frame(Peer& peer, const wire::Frame& frame);

  // ---- Called by Connection (I/O thread)
  wire::HelloReply::Status admit(const std::string& peer_name, uint64_t creation);
  // The handshake is done: the connection becomes the peer's; false if it
  // lost a race and must close.
  bool on_up(const std::shared_ptr<Connection>& conn);
  // Handles one frame of an up connection; false if the connection must
  // close (the reason is in *error).
  bool on_frame(Connection& conn, const wire::Frame& frame, std::string* error);
  void on_closed(Connection& conn, const std::string& reason);

  // Writes the peer's queue to its socket from this thread if the I/O thread
  // is not writing, else leaves it to the I/O thread (takes peer.mu).
  void write_now(Peer& peer);
  void log(LogLevel level, const std::string& text) const { runtime->log(level, text); }

  // ---- Node events
  void subscribe(Pid pid);
  void unsubscribe(Pid pid);
  void monitor_node(Pid watcher, const std::string& node_name);

  // ---- Remote spawn
  struct ProcessType {
    std::string args_type;
    std::function<Process*(Runtime&, const std::string&, Status*)> make;
  };
  Status add_process_type(const std::string& type, ProcessType entry);
  Ref request_spawn(Pid requester, const std::string& node_name, const std::string& type,
                    const std::string& args_type, std::string args, SpawnOptions options);

  Status send_named(const std::string& node_name, const std::string& to_name, Envelope* env);
  std::string node_name(Pid pid) const;

 private:
  void accept_next();
  void tick();
  // Takes the peer's queue and tables for a lost incarnation (under its lock)
  // and fires them; notifies watchers. `was_up`: the node had been up.
  void lose(Peer& peer, const std::string& reason, bool was_up);
  // Fires each entry with noconnection (`why` explains failed spawns).
  void fire(CrossNodeTables tables, const std::string& why);
  void notify_nodes(const std::string& node_name, bool up, const std::string& reason,
                    std::vector<Pid> watchers);
  void gossip(Peer& peer);
  // Encoding helpers (peer.mu held).
  WirePid wire_pid(const Peer& peer, Pid pid) const;
  WireRef wire_ref(const Peer& peer, Ref ref) const;
  // Appends `env` for `to` (or for the registered name `to_name`) to the
  // peer's queue and deletes it.
  void encode(Peer& peer, Pid to, std::string_view to_name, Envelope* env);
  // Waits while the peer's queue is full; false if the peer was lost.
  bool wait_for_room(Peer& peer, std::unique_lock<std::mutex>& lock);
  // Appends a control frame to the peer's queue (peer.mu held).
  void queue_locked(Peer& peer, const wire::Frame& frame);
  // After frames were queued (peer.mu held): has them written, now or at the
  // end of the running process's turn.
  void kick(Peer& peer);
  // Posts a flush to the I/O thread unless one is on its way (peer.mu held).
  void post_flush(Peer& peer);
  // Decoding helpers (I/O thread).
  Pid local_pid(const Connection& conn, const wire::Pid& pid);
  Ref local_ref(const Connection& conn, const wire::Ref& ref);
  std::optional<uint32_t> node_index(const Connection& conn, wire::Side side,
                                     const wire::NodeId& node);
  bool on_send(Connection& conn, const wire::Send& send, std::string* error);
  bool on_signal(Connection& conn, const wire::Signal& signal, std::string* error);
  void on_spawn_request(Connection& conn, const wire::SpawnRequest& request);
  void on_spawn_reply(Connection& conn, const wire::SpawnReply& reply);
  // A process of a registered type, made but not started; null with *error.
  Process* make_typed_process(const std::string& type, const std::string& args_type,
                              const std::string& args, Status* error);
  void start_outgoing(Peer& peer);
  void outgoing_failed(Peer& peer, const std::string& reason);
  void awaiting_winner(Peer& peer);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer tick_timer_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread io_thread_;
  std::atomic<bool> stopped_{false};

  mutable std::mutex peers_mu_;
  std::map<std::string, std::unique_ptr<Peer>> peers_;
  // I/O thread only:
  std::unordered_map<Connection*, std::shared_ptr<Connection>> connections_;
  uint64_t gossip_round_ = 0;

  std::mutex subscribers_mu_;
  std::vector<Pid> subscribers_;

  std::mutex types_mu_;
  std::unordered_map<std::string, ProcessType> process_types_;
};

// True on a node's I/O thread (which must never wait for a peer).
bool on_io_thread();

}  // namespace plexus::detail

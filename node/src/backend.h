// Backend: what carries a node's connections. TCP (TcpBackend: sockets, TLS,
// an I/O thread), or an in-process loopback network (LoopbackBackend: stepped
// by its network, on the caller's thread, with virtual time).
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "handshake.h"
#include "node_name.h"
#include "plexus/detail/mutex.h"
#include "plexus/pid.h"
#include "plexus/status.h"
#include "plexus/wire.pb.h"

namespace plexus::detail {

class Connection;
class Peer;

// What the node does with connections, as a backend sees it. Every call is
// made on the loop.
class ConnectionHost {
 public:
  // The handshakes of a new connection: from this node to `peer_name`, and
  // of one accepted from anyone.
  virtual Handshake connecting_handshake(const std::string& peer_name) = 0;
  virtual Handshake accepting_handshake() = 0;
  // A new connection, started: the node tracks it until it closes.
  virtual void adopt(std::shared_ptr<Connection> conn) = 0;
  // An outgoing attempt for `peer` failed before a connection existed.
  virtual void outgoing_failed(Peer& peer, const std::string& reason) = 0;
  // Accepting failed (out of descriptors, say); the backend tries again later.
  virtual void accept_failed(const std::string& reason) = 0;

  // ---- From the connections
  // The acceptor's decision on a Hello from (name, creation).
  virtual wire::HelloReply::Status admit(const std::string& name, uint64_t creation) = 0;
  // The handshake is done; false if the connection lost a race and must close.
  virtual bool on_up(const std::shared_ptr<Connection>& conn) = 0;
  // One frame of an up connection; false (with *error) if it must close.
  virtual bool on_frame(Connection& conn, const wire::Frame& frame, std::string* error) = 0;
  virtual void on_closed(Connection& conn, const std::string& reason) = 0;
  // A peer's queue was taken for writing: the senders suspended on it go on.
  virtual void drained(std::vector<Pid> senders) = 0;
  // Frames above this size close an up connection.
  virtual size_t max_frame_size() const = 0;
  // How long a connection may take to finish its handshake.
  virtual std::chrono::milliseconds handshake_timeout() const = 0;

 protected:
  ~ConnectionHost() = default;
};

// The loop is the one thread (TCP) or the one stepper (loopback) that runs
// every connection, timer and frame handler of a node; other threads post to
// it.
class Backend {
 public:
  using Clock = std::chrono::steady_clock;
  virtual ~Backend() = default;

  // Listens on `address` (port 0: a free one) and returns the address bound.
  virtual Result<NodeAddress> listen(const NodeAddress& address) = 0;
  // Starts the loop; accepted connections go to `host` from now on.
  virtual void start(ConnectionHost& host) = 0;
  // Stops accepting and runs `close_connections` on the loop, which closes
  // every connection (each after writing what it has queued); the loop ends
  // at end_loop(), or after a short grace period. Nothing runs on it
  // afterwards. Called once, from outside the loop.
  virtual void stop(std::function<void()> close_connections) = 0;
  // On the loop, while stopping: the last connection has closed.
  virtual void end_loop() = 0;

  // ---- The loop
  // Runs `fn` on the loop soon (any thread).
  virtual void post(std::function<void()> fn) = 0;
  // Runs `fn` on the loop after `delay`, unless the loop stops first.
  virtual void post_after(std::chrono::milliseconds delay, std::function<void()> fn) = 0;
  virtual Clock::time_point now() const = 0;
  // True on the loop's thread, which must never wait for a peer.
  virtual bool on_loop() const = 0;
  // Runs `fn` on the loop and returns once it has run (not on the loop).
  virtual void run_on_loop(std::function<void()> fn) = 0;
  // Waits, with `mu` held around it, for `cv` to be signaled or `deadline`
  // to pass (false then); a stepped backend runs the loop meanwhile instead.
  // The caller checks its condition again either way. Not on the loop.
  virtual bool wait(Mutex& mu, CondVar& cv, Clock::time_point deadline) PLEXUS_REQUIRES(mu) = 0;

  // ---- Connections (on the loop)
  // One outgoing attempt to `peer`, bounded by `timeout`: ends with
  // host.adopt(connection) or host.outgoing_failed(peer, reason).
  virtual void connect(Peer& peer, std::chrono::milliseconds timeout) = 0;
};

}  // namespace plexus::detail

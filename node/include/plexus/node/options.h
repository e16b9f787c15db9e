// NodeOptions: how a node is named, secured, timed and bounded.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "plexus/runtime.h"

namespace plexus {

class LoopbackNetwork;

// Mutual TLS for every connection of a node: each side proves its identity
// with a certificate signed by the cluster's CA, on top of the cookie.
struct TlsOptions {
  std::string ca_file;           // PEM: the CA that signs every node's certificate
  std::string certificate_file;  // PEM: this node's certificate (chain)
  std::string private_key_file;  // PEM: this node's key
};

struct NodeOptions {
  // "name@host:port". The node listens on host:port; port 0 picks a free
  // port, and name() then reports the one chosen.
  std::string name;
  // The cluster's shared secret. Never sent: the handshake proves knowledge
  // of it with HMAC-SHA256 over random challenges.
  std::string cookie;
  // Nodes to connect to at start (and to retry while they are unreachable).
  // Members learned from them are connected too (full mesh).
  std::vector<std::string> seeds;
  // A peer that sent nothing for this long is down (Erlang's net_ticktime).
  // Ticks go out on idle connections every tick_timeout / 4.
  std::chrono::milliseconds tick_timeout{60'000};
  // How long a connect and handshake may take.
  std::chrono::milliseconds connect_timeout{5'000};
  // Frames larger than this are refused and the connection closed.
  size_t max_frame_size = size_t{64} << 20;
  // Bytes queued for one peer and not yet written. A process that sends
  // beyond it is suspended from the end of its turn (or at its next receive)
  // until the peer drains the buffer, as Erlang suspends a process on a busy
  // distribution port: only the sender waits, never its scheduler thread
  // (unless a single turn sends twice the limit without a receive: its thread
  // then waits, as the last resort). A thread outside any process waits. A
  // peer that drains nothing for tick_timeout is disconnected (its links and
  // monitors fire with noconnection), which releases the senders. The
  // transport's own thread never waits: past the limit it disconnects the
  // peer at once.
  size_t max_send_buffer = size_t{64} << 20;
  // Incoming connections whose handshake is not done yet, in all and from
  // one host. Past either cap the oldest one that has not even said Hello is
  // closed to make room (or, if all have, the new one is refused): strangers
  // cannot hold the node's descriptors, and members that reconnect get in.
  size_t max_pending_handshakes = 128;
  size_t max_pending_handshakes_per_host = 32;
  // Off by default. TCP only.
  std::optional<TlsOptions> tls;
  // A hidden node (Erlang's -hidden), for tools such as plexusctl: it
  // connects only where it is asked to, is told no members and is listed
  // by no one's nodes() (hidden_nodes() lists it), and subscribers hear of
  // it neither up nor down; so it is never a member of a hub.
  bool hidden = false;
  // Null: TCP. Otherwise the node joins this in-process network instead of
  // listening on a socket, and its runtime must be deterministic: the network
  // steps every node (see plexus/node/loopback.h).
  LoopbackNetwork* loopback = nullptr;
  RuntimeOptions runtime;
};

}  // namespace plexus

// Node: one member of a Plexus cluster. A runtime plus a TCP transport that
// makes pids location-transparent, as Erlang distribution does.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "plexus/context.h"
#include "plexus/message.h"
#include "plexus/pid.h"
#include "plexus/runtime.h"
#include "plexus/status.h"
#include "plexus/task.h"

namespace plexus {

class PidProto;

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
  // Bytes queued for one peer and not yet written. A sender that would go
  // beyond it waits until the peer drains the buffer; a peer that does not
  // drain it within tick_timeout is disconnected (its links and monitors fire
  // with noconnection), which releases the waiting senders. The transport's
  // own thread never waits: past the limit it disconnects the peer at once.
  size_t max_send_buffer = size_t{64} << 20;
  // Off by default.
  std::optional<TlsOptions> tls;
  RuntimeOptions runtime;
};

// Delivered to subscribers (Node::subscribe) when a connection to a node
// comes up.
struct NodeUp {
  std::string node;
};

// Delivered to subscribers and monitor_node watchers when a node is lost.
struct NodeDown {
  std::string node;
  std::string reason;  // "connection closed", "tick timeout", "connect failed: ...", ...
};

struct SpawnOptions {
  bool link = false;     // link the new process to the requester
  bool monitor = false;  // the requester monitors it (the spawn reply's ref is the monitor's)
};

// The answer to Node::spawn_request, delivered to the requester.
struct SpawnReply {
  Ref ref;  // the spawn_request's ref
  Pid pid;  // the new process, or the null pid if `status` says why not
  Status status;
};

// What a node knows of one connection.
struct NodeStats {
  uint64_t frames_in = 0;
  uint64_t frames_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  uint64_t writes = 0;  // write syscalls: frames_out / writes is the coalescing factor
};

class Node;
namespace detail {
class NodeImpl;
// The Node that owns `rt`, or null.
Node* node_of(Runtime& rt);
}  // namespace detail

class Node {
 public:
  // Binds the listening socket, starts the runtime and the transport thread
  // and connects to the seeds (in the background). Fails on an invalid name,
  // an empty cookie, unreadable TLS files or a port already in use.
  static Result<std::unique_ptr<Node>> start(NodeOptions options);

  // Closes every connection (peers see this node go down), then ends every
  // process.
  ~Node();
  Node(const Node&) = delete;
  Node& operator=(const Node&) = delete;

  // The node that owns the runtime of `self`; null for a runtime without one.
  static Node* of(const Context& self) { return detail::node_of(self.runtime()); }

  Runtime& runtime();
  // "name@host:port", with the port actually bound.
  const std::string& name() const;
  uint64_t creation() const;

  // ---- Membership
  // Connects to `node` ("name@host:port") and waits for the handshake; OK if
  // already connected.
  Status connect(const std::string& node);
  // Closes the connection to `node`; its links and monitors fire with
  // noconnection. It is not reconnected unless something needs it again.
  void disconnect(const std::string& node);
  // The nodes connected now.
  std::vector<std::string> nodes() const;
  // The name of the node `pid` lives on.
  std::string node_name(Pid pid) const;

  // NodeUp / NodeDown for every node to `subscriber` until it exits or
  // unsubscribes (net_kernel:monitor_nodes).
  void subscribe(Pid subscriber);
  void unsubscribe(Pid subscriber);
  // One NodeDown to `watcher` when `node` goes down (erlang:monitor_node):
  // at once if it is not connected and cannot be connected.
  void monitor_node(Pid watcher, const std::string& node);

  // ---- Remote messages
  // Sends to the process registered as `name` on `node`. The message must be
  // a WireMessage when `node` is not this node.
  template <class T>
  Status send(const std::string& node, const std::string& name, T&& msg);

  // A pid inside an application's protobuf message.
  void to_proto(Pid pid, PidProto* out) const;
  Result<Pid> from_proto(const PidProto& proto);

  // ---- Remote spawn
  // Registers a process type that other nodes (and this one) may spawn by
  // name with arguments of protobuf type A: `body` is a coroutine
  // `Task<>(Context, A)`. Every node of a cluster registers the same types.
  template <class A, class F>
  Status register_process(const std::string& type, F body);

  // Asks `node` to spawn a process of `type` with `args` (erlang:spawn_request).
  // `requester` gets a SpawnReply with the returned ref: the new pid, or an
  // error (unknown type, bad arguments, node down).
  template <class A>
  Ref spawn_request(Pid requester, const std::string& node, const std::string& type, const A& args,
                    SpawnOptions options = {});

  // The same from a process: waits for the reply.
  template <class A>
  Task<Result<Pid>> spawn(Context self, const std::string& node, const std::string& type, A args,
                          SpawnOptions options = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(10));

  // Statistics of the connection to `node` (zeros if none).
  NodeStats stats(const std::string& node) const;

  detail::NodeImpl& impl() { return *impl_; }

 private:
  explicit Node(NodeOptions options);

  // Type-erased halves of the templates above. A SpawnBody makes the process
  // but does not start it, so that its link or monitor is set up first.
  using SpawnBody =
      std::function<detail::Process*(Runtime&, const std::string& args, Status* error)>;
  Status add_process_type(const std::string& type, const std::string& args_type, SpawnBody body);
  Ref request_spawn(Pid requester, const std::string& node, const std::string& type,
                    const std::string& args_type, std::string args, SpawnOptions options);
  Status send_named(const std::string& node, const std::string& name, detail::Envelope* env);

  std::unique_ptr<detail::NodeImpl> impl_;
};

// ---- Templates

template <class T>
Status Node::send(const std::string& node, const std::string& name, T&& msg) {
  using D = std::decay_t<T>;
  if (node == this->name()) return runtime().send(name, std::forward<T>(msg));
  if constexpr (!WireMessage<D>) {
    return detail::not_a_wire_type(Pid{}, typeid(D));
  } else {
    return send_named(
        node, name, detail::make_envelope<D>(detail::EnvelopeKind::kMessage, std::forward<T>(msg)));
  }
}

template <class A, class F>
Status Node::register_process(const std::string& type, F body) {
  static_assert(WireMessage<A>, "spawn arguments must be a protobuf message");
  return add_process_type(type, std::string(A::default_instance().GetTypeName()),
                          [body = std::move(body)](Runtime& rt, const std::string& bytes,
                                                   Status* error) -> detail::Process* {
                            A args;
                            if (!args.ParseFromString(bytes)) {
                              *error = Status(StatusCode::kInvalidArgument,
                                              "spawn arguments do not parse");
                              return nullptr;
                            }
                            return rt.make_process(body, std::move(args));
                          });
}

template <class A>
Ref Node::spawn_request(Pid requester, const std::string& node, const std::string& type,
                        const A& args, SpawnOptions options) {
  static_assert(WireMessage<A>, "spawn arguments must be a protobuf message");
  return request_spawn(requester, node, type, std::string(A::default_instance().GetTypeName()),
                       args.SerializeAsString(), options);
}

template <class A>
Task<Result<Pid>> Node::spawn(Context self, const std::string& node, const std::string& type,
                              A args, SpawnOptions options, std::chrono::milliseconds timeout) {
  Ref ref = spawn_request(self.self(), node, type, args, options);
  std::optional<Result<Pid>> result;
  co_await self.receive(
      match([ref](const SpawnReply& r) { return r.ref == ref; },
            [&](SpawnReply& r) {
              if (r.status.ok()) {
                result.emplace(r.pid);
              } else {
                result.emplace(std::move(r.status));
              }
            }),
      after(timeout, [&] {
        result.emplace(Status(StatusCode::kTimeout, "spawn on " + node + " timed out"));
      }));
  co_return std::move(*result);
}

}  // namespace plexus

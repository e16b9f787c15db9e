// Node: one member of a Plexus cluster. A runtime plus a transport (TCP, or an
// in-process loopback network) that makes pids location-transparent, as
// Erlang distribution does.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/context.h"
#include "plexus/node/events.h"
#include "plexus/node/options.h"
#include "plexus/node/spawn.h"
#include "plexus/node/stats.h"
#include "plexus/pid.h"
#include "plexus/runtime.h"
#include "plexus/status.h"
#include "plexus/task.h"

namespace plexus {

class PidProto;
namespace detail {
class NodeImpl;
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
  static Node* of(const Context& self);

  Runtime& runtime();
  // "name@host:port", with the port actually bound.
  const std::string& name() const;
  uint64_t creation() const;
  // The options it started with (its name and port as given, not as bound).
  const NodeOptions& options() const;

  // ---- Membership
  // Connects to `node` ("name@host:port") and waits for the handshake; OK if
  // already connected.
  Status connect(const std::string& node);
  // Closes the connection to `node`; its links and monitors fire with
  // noconnection. It is not reconnected unless something needs it again.
  void disconnect(const std::string& node);
  // The nodes connected now, hidden ones left out (erlang:nodes/0).
  std::vector<std::string> nodes() const;
  // The hidden nodes connected now (erlang:nodes(hidden)).
  std::vector<std::string> hidden_nodes() const;
  // True if this node is hidden (NodeOptions::hidden).
  bool hidden() const;
  // The creation of `node` connected now (this node's own too), or 0.
  uint64_t creation_of(const std::string& node) const;

  // Closes the connections to `peers` and refuses them, both ways, until
  // unblock(): a partition this node makes alone (net_kernel:allow's
  // counterpart), one node at a time, so one-way and non-transitive
  // partitions can be made on one host.
  void block(const std::vector<std::string>& peers);
  // Lets `peers` connect again; none given: every blocked peer.
  void unblock(const std::vector<std::string>& peers = {});
  std::vector<std::string> blocked() const;
  // The name of the node `pid` lives on ("" if this node never knew it).
  std::string node_name(Pid pid) const;
  // The same without a copy, valid as long as this Node.
  std::string_view node_name_view(Pid pid) const;

  // NodeUp / NodeDown for every visible node to `subscriber` until it exits
  // or unsubscribes (net_kernel:monitor_nodes).
  void subscribe(Pid subscriber);
  void unsubscribe(Pid subscriber);
  // Calls `fn` each time the connection to a node is lost, with the
  // Pid::node of the incarnation lost, before any NodeDown about it is
  // sent: for a layer that must stop naming that node's pids at once (the
  // hub's lookups), not one message later. `fn` runs on the transport
  // thread under a lock: it must be quick and must not call this Node.
  // Returns an id for remove_down_listener.
  uint64_t add_down_listener(std::function<void(uint32_t node)> fn);
  // Removes a listener; a call to it under way ends first.
  void remove_down_listener(uint64_t id);
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

  // Starts a process of the registered `type` on this node from `args`,
  // serialized arguments of the type's argument type, linked to `link_to`
  // (the calling process) unless it is null: for a layer that keeps a
  // type's arguments as bytes (the hub). kNotFound for a type not
  // registered here; kInvalidArgument for arguments that do not parse;
  // kResourceExhausted when the process table is full.
  Result<Pid> spawn_local(const std::string& type, const std::string& args, Pid link_to = {});

  // Statistics of the connection to `node` (zeros if none).
  NodeStats stats(const std::string& node) const;

 private:
  friend class HttpServer;  // runs on the node's I/O thread
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

}  // namespace plexus

#include "plexus/node/detail/node_templates.h"

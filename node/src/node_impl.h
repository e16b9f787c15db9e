// NodeImpl: one node's transport, assembled; the Node facade's one member.
#pragma once

#include <atomic>
#include <memory>
#include <string>

#include "backend.h"
#include "inbound.h"
#include "membership.h"
#include "node_name.h"
#include "node_table.h"
#include "outbound.h"
#include "peer_directory.h"
#include "plexus/node/node.h"
#include "plexus/spi/distribution.h"
#include "remote_spawn.h"
#include "wire_ids.h"

namespace plexus::detail {

// Owns the parts, bottom up, and is the runtime's distribution. The parts
// hold references to those below them; none reaches up.
class NodeImpl final : public spi::Distribution {
 public:
  NodeImpl(Node& owner, NodeOptions options, const NodeAddress& address);
  ~NodeImpl();

  // Listens, attaches to the runtime and starts the loop.
  Status start();
  // Stops every process, says goodbye to the peers, stops the loop.
  void stop();

  // ---- spi::Distribution
  void route(Pid to, Envelope* env) override { outbound_.route(to, env); }
  void route_named(const std::string& node, const std::string& name, Envelope* env) override {
    (void)outbound_.send_named(node, name, env);
  }
  void end_of_turn() override { Outbound::end_of_turn(); }
  const std::string& node_name() const override { return identity.name; }

  // The connections' carrier (HttpServer shares its I/O thread).
  Backend& backend() { return *backend_; }

  Node& owner;
  const NodeOptions options;
  NodeIdentity identity;
  std::unique_ptr<Runtime> runtime;
  NodeTable table;
  PeerDirectory peers;
  WireIds ids;

 private:
  friend class plexus::Node;

  std::unique_ptr<Backend> backend_;
  Outbound outbound_;
  Inbound inbound_;
  RemoteSpawn spawn_;
  Membership membership_;
  std::atomic<bool> stopped_{false};
  // The transport's metrics in the runtime's registry (node_metrics.cpp);
  // declared last, so it goes before the parts it reads.
  MetricsRegistry::Registration metrics_;
  void write_metrics(MetricsWriter& out);
};

}  // namespace plexus::detail

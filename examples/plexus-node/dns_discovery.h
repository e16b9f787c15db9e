// DNS discovery: the nodes to join, polled from DNS records, as for a
// Kubernetes headless service (one A record per ready pod) or an SRV record
// set, besides (or instead of) static seeds.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "plexus/detail/mutex.h"
#include "plexus/node/node.h"
#include "plexus/status.h"

namespace plexus_node {

struct DnsDiscoveryOptions {
  std::string name;  // --discover-dns NAME: the records to poll (empty: no discovery)
  bool srv = false;  // --discover-dns-type srv: SRV records (target and port) instead of A
  // Node names are <node_base>@<address>:<port>. For A records every node
  // listens on `port`; an SRV record gives each its target and port.
  std::string node_base = "plexus";  // --discover-node-base
  uint16_t port = 0;                 // --discover-port (A records)
  // The DNS server to ask, "IP" or "IP:PORT"; empty: /etc/resolv.conf's.
  std::string server;                        // --discover-dns-server
  std::chrono::milliseconds interval{5000};  // --discover-interval-ms

  // kInvalidArgument for options DnsDiscovery cannot poll with (no name,
  // A records without a port), naming the flag.
  plexus::Status validate() const;
};

// One query: the node names the records give now, sorted; empty when the
// name has no records (a headless service with no ready pod is no error).
// An error for a server that does not answer or a reply that does not parse.
plexus::Result<std::vector<std::string>> discover_nodes(const DnsDiscoveryOptions& options);

// Polls every `interval` on a thread of its own (a query blocks) and
// connects the node to every node found that it is not connected to. Logs
// when the set found changes, and a failing query once until it works again;
// counts its queries in the node's metrics (plexus_dns_discovery_*).
class DnsDiscovery {
 public:
  static plexus::Result<std::unique_ptr<DnsDiscovery>> start(plexus::Node& node,
                                                             DnsDiscoveryOptions options);
  ~DnsDiscovery();  // stops the thread (within one connect timeout)
  DnsDiscovery(const DnsDiscovery&) = delete;
  DnsDiscovery& operator=(const DnsDiscovery&) = delete;

  // What the last query that worked found (this node included). Any thread.
  std::vector<std::string> found() const;

 private:
  DnsDiscovery(plexus::Node& node, DnsDiscoveryOptions options)
      : node_(node), options_(std::move(options)) {}
  void run();

  plexus::Node& node_;
  const DnsDiscoveryOptions options_;
  std::atomic<uint64_t> queries_{0}, failures_{0};  // for the metrics
  plexus::MetricsRegistry::Registration metrics_;
  mutable plexus::detail::Mutex mu_;
  plexus::detail::CondVar wake_;
  bool stopping_ PLEXUS_GUARDED_BY(mu_) = false;
  std::vector<std::string> found_ PLEXUS_GUARDED_BY(mu_);
  std::thread thread_;
};

}  // namespace plexus_node

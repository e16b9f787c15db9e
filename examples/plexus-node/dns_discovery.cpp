#include "dns_discovery.h"

#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <netinet/in.h>
#include <resolv.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <set>

namespace plexus_node {

namespace {

using plexus::Result;
using plexus::Status;
using plexus::StatusCode;

// A resolver state that asks `server` ("IP" or "IP:PORT"), or the system's.
Status init_resolver(res_state state, const std::string& server) {
  std::memset(state, 0, sizeof *state);
  if (res_ninit(state) != 0) return Status(StatusCode::kUnavailable, "dns: res_ninit failed");
  // A query gives up within about two seconds, so a stopping node waits at
  // most that long for its discovery thread.
  state->retrans = 1;
  state->retry = 2;
  if (server.empty()) return Status::OK();
  std::string ip = server;
  uint16_t port = 53;
  if (size_t colon = server.rfind(':'); colon != std::string::npos) {
    ip = server.substr(0, colon);
    auto [end, ec] =
        std::from_chars(server.data() + colon + 1, server.data() + server.size(), port);
    if (ec != std::errc() || end != server.data() + server.size() || port == 0) {
      res_nclose(state);
      return Status(StatusCode::kInvalidArgument, "dns: bad server port in '" + server + "'");
    }
  }
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_port = htons(port);
  if (inet_pton(AF_INET, ip.c_str(), &address.sin_addr) != 1) {
    res_nclose(state);
    return Status(StatusCode::kInvalidArgument, "dns: '" + ip + "' is not an IPv4 address");
  }
  state->nscount = 1;
  state->nsaddr_list[0] = address;
  return Status::OK();
}

}  // namespace

Status DnsDiscoveryOptions::validate() const {
  if (name.empty()) return Status(StatusCode::kInvalidArgument, "--discover-dns: no name to poll");
  if (!srv && port == 0) {
    return Status(StatusCode::kInvalidArgument,
                  "--discover-dns with A records needs --discover-port");
  }
  return Status::OK();
}

Result<std::vector<std::string>> discover_nodes(const DnsDiscoveryOptions& options) {
  struct __res_state state;
  if (Status s = init_resolver(&state, options.server); !s.ok()) return s;
  unsigned char answer[8192];
  int length = res_nquery(&state, options.name.c_str(), ns_c_in, options.srv ? ns_t_srv : ns_t_a,
                          answer, sizeof answer);
  int error = state.res_h_errno;
  res_nclose(&state);
  if (length < 0) {
    // No such name, or no records of the type: nothing to join yet.
    if (error == HOST_NOT_FOUND || error == NO_DATA) return std::vector<std::string>{};
    return Status(StatusCode::kUnavailable,
                  "dns: no answer for " + options.name + " (" + hstrerror(error) + ")");
  }
  ns_msg message;
  if (ns_initparse(answer, length, &message) != 0) {
    return Status(StatusCode::kUnavailable,
                  "dns: a reply for " + options.name + " that does not parse");
  }
  std::set<std::string> names;
  for (int i = 0; i < ns_msg_count(message, ns_s_an); ++i) {
    ns_rr record;
    if (ns_parserr(&message, ns_s_an, i, &record) != 0) continue;
    const unsigned char* data = ns_rr_rdata(record);
    if (!options.srv && ns_rr_type(record) == ns_t_a && ns_rr_rdlen(record) == 4) {
      char ip[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, data, ip, sizeof ip);
      names.insert(options.node_base + "@" + ip + ":" + std::to_string(options.port));
    } else if (options.srv && ns_rr_type(record) == ns_t_srv && ns_rr_rdlen(record) > 6) {
      // priority, weight, port (two bytes each), then the target's name.
      uint16_t port = static_cast<uint16_t>(data[4] << 8 | data[5]);
      char target[NS_MAXDNAME];
      if (dn_expand(ns_msg_base(message), ns_msg_end(message), data + 6, target, sizeof target) <
          0) {
        continue;
      }
      std::string host = target;
      if (!host.empty() && host.back() == '.') host.pop_back();
      names.insert(options.node_base + "@" + host + ":" + std::to_string(port));
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

Result<std::unique_ptr<DnsDiscovery>> DnsDiscovery::start(plexus::Node& node,
                                                          DnsDiscoveryOptions options) {
  if (Status valid = options.validate(); !valid.ok()) return valid;
  std::unique_ptr<DnsDiscovery> d(new DnsDiscovery(node, std::move(options)));
  d->metrics_ = node.runtime().metrics().add([raw = d.get()](plexus::MetricsWriter& out) {
    out.counter("plexus_dns_discovery_queries_total", "DNS queries for the nodes to join",
                static_cast<double>(raw->queries_.load(std::memory_order_relaxed)));
    out.counter("plexus_dns_discovery_failures_total", "DNS queries that got no answer",
                static_cast<double>(raw->failures_.load(std::memory_order_relaxed)));
    out.gauge("plexus_dns_discovery_nodes", "nodes the last answer named (this one included)",
              static_cast<double>(raw->found().size()));
  });
  d->thread_ = std::thread([raw = d.get()] { raw->run(); });
  return d;
}

DnsDiscovery::~DnsDiscovery() {
  metrics_.reset();
  {
    plexus::detail::MutexLock lock(mu_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

std::vector<std::string> DnsDiscovery::found() const {
  plexus::detail::MutexLock lock(mu_);
  return found_;
}

void DnsDiscovery::run() {
  plexus::Runtime& rt = node_.runtime();
  std::string last_error;
  for (;;) {
    Result<std::vector<std::string>> nodes = discover_nodes(options_);
    queries_.fetch_add(1, std::memory_order_relaxed);
    if (!nodes.ok()) {
      failures_.fetch_add(1, std::memory_order_relaxed);
      // Said once, not at every poll, until a query works again.
      if (nodes.status().message() != last_error) {
        last_error = nodes.status().message();
        rt.log(plexus::LogLevel::kWarning, last_error + "; polling on");
      }
    } else {
      if (!last_error.empty())
        rt.log(plexus::LogLevel::kInfo, "dns: " + options_.name + " answers again");
      last_error.clear();
      bool changed;
      {
        plexus::detail::MutexLock lock(mu_);
        changed = *nodes != found_;
        if (changed) found_ = *nodes;
      }
      if (changed) {
        std::string list;
        for (const std::string& n : *nodes) list += " " + n;
        rt.log(plexus::LogLevel::kInfo, "dns: " + options_.name + " gives " +
                                            std::to_string(nodes->size()) + " nodes:" + list);
      }
      std::vector<std::string> connected = node_.nodes();
      for (const std::string& n : *nodes) {
        if (n == node_.name() ||
            std::find(connected.begin(), connected.end(), n) != connected.end()) {
          continue;
        }
        // Blocks up to the connect timeout; a node that is listed but not up
        // yet is tried again at the next poll.
        (void)node_.connect(n);
      }
    }
    plexus::detail::MutexLock lock(mu_);
    auto deadline = std::chrono::steady_clock::now() + options_.interval;
    while (!stopping_ && wake_.wait_until(mu_, deadline)) {
    }
    if (stopping_) return;
  }
}

}  // namespace plexus_node

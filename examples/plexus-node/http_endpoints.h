// What plexus-node serves on --http-port: read-only, for operators.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "hub_control.h"
#include "plexus/node/http_server.h"
#include "plexus/node/node.h"

namespace plexus_node {

// The routes, for HttpServer::start on `node`:
//   /metrics  every layer's metrics in the Prometheus text format, each
//             sample labelled node="<this node>"
//   /healthz  200 "ok" while the node runs (it answers at all)
//   /readyz   200 "ready" once a seed has been reached (or there is none
//             but this node)
//             and every hub runs, with no handoff round under way and no
//             refusal; else 503 with one line per thing missing
// `hubs` and `node` must outlive the server.
// `seeds()` gives the nodes to reach: the static seeds and what DNS
// discovery found (called on the I/O thread).
plexus::HttpServerOptions http_endpoints(plexus::Node& node, const HubHost& hubs,
                                         std::function<std::vector<std::string>()> seeds);

}  // namespace plexus_node

#include "http_endpoints.h"

#include <algorithm>
#include <memory>

namespace plexus_node {

namespace {

// Readiness, worked out on the node's I/O thread (where every handler runs,
// so this needs no lock). A seed once reached stays reached: a node that has
// joined the cluster does not become unready because its seed went away.
class Readiness {
 public:
  Readiness(plexus::Node& node, const HubHost& hubs,
            std::function<std::vector<std::string>()> seeds)
      : node_(node), hubs_(hubs), seeds_(std::move(seeds)) {}

  // What keeps the node from being ready, one line each; empty when ready.
  std::string missing() {
    std::string out;
    if (!seed_reached_) {
      std::vector<std::string> seeds = seeds_();
      std::erase(seeds, node_.name());
      std::vector<std::string> connected = node_.nodes();
      seed_reached_ = seeds.empty() || std::any_of(seeds.begin(), seeds.end(), [&](const auto& s) {
                        return std::find(connected.begin(), connected.end(), s) != connected.end();
                      });
      if (!seed_reached_) out += "no seed reached yet\n";
    }
    for (plexus::hub::Hub* hub : hubs_.all()) {
      const std::string& id = hub->hub_id();
      if (!hub->is_alive()) {
        out += "hub " + id + ": stopped\n";
      } else if (std::string why = hub->refusal(); !why.empty()) {
        out += "hub " + id + ": " + why + "\n";
      } else if (hub->is_partitioned()) {
        out += "hub " + id + ": partitioned (no quorum)\n";
      } else if (hub->is_locked()) {
        out += "hub " + id + ": handoff round under way\n";
      } else if (!hub->is_synced()) {
        out += "hub " + id + ": not yet in one view with every member it reaches\n";
      }
    }
    return out;
  }

 private:
  plexus::Node& node_;
  const HubHost& hubs_;
  const std::function<std::vector<std::string>()> seeds_;
  bool seed_reached_ = false;
};

plexus::HttpResponse plain(int status, std::string body) {
  plexus::HttpResponse response;  // text/plain
  response.status = status;
  response.body = std::move(body);
  return response;
}

}  // namespace

plexus::HttpServerOptions http_endpoints(plexus::Node& node, const HubHost& hubs,
                                         std::function<std::vector<std::string>()> seeds) {
  plexus::HttpServerOptions options;
  options.routes["/metrics"] = [&node](std::string_view) {
    plexus::MetricsWriter writer;
    node.runtime().metrics().collect(writer);
    return plexus::HttpResponse{200, "text/plain; version=0.0.4; charset=utf-8",
                                writer.prometheus({{"node", node.name()}})};
  };
  options.routes["/healthz"] = [](std::string_view) { return plain(200, "ok\n"); };
  auto readiness = std::make_shared<Readiness>(node, hubs, std::move(seeds));
  options.routes["/readyz"] = [readiness](std::string_view) {
    std::string missing = readiness->missing();
    return missing.empty() ? plain(200, "ready\n") : plain(503, std::move(missing));
  };
  return options;
}

}  // namespace plexus_node

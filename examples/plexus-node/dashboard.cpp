#include "dashboard.h"

#include "dashboard_assets.h"
#include "json.h"
#include "node_control.pb.h"
#include "plexus/log.h"

namespace plexus_node {

namespace {

using namespace std::chrono_literals;

std::string content_type(std::string_view path) {
  if (path.ends_with(".html")) return "text/html; charset=utf-8";
  if (path.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (path.ends_with(".css")) return "text/css; charset=utf-8";
  return "application/octet-stream";
}

// Every second: counts each hub's children by node, and asks each connected
// node's control process for its info, keeping the answers.
plexus::Task<> refresh(plexus::Context self, DashboardCache* cache, const HubHost* hubs) {
  plexus::Node& node = *plexus::Node::of(self);
  plexus::PidProto me;
  node.to_proto(self.self(), &me);
  for (;;) {
    for (plexus::hub::Hub* h : hubs->all())
      cache->set_children_by_node(h->hub_id(), h->children_by_node());
    NodeCommand ask;
    ask.set_op(NodeCommand::INFO);
    *ask.mutable_reply_to() = me;
    for (const std::string& peer : node.nodes()) (void)node.send(peer, "control", NodeCommand(ask));
    // Answers until the next round; a node without a control process (not
    // a plexus-node) never answers and is shown with what its link says.
    auto next_round = std::chrono::steady_clock::now() + 1s;
    for (;;) {
      auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          next_round - std::chrono::steady_clock::now());
      if (left <= 0ms) break;
      std::optional<CtlAnswer> answer = co_await self.receive<CtlAnswer>(left);
      if (!answer || answer->lines_size() != 1) continue;
      const std::string& line = answer->lines(0);
      // {"node":"<name>",...}: the name is the first field.
      size_t start = line.find("\"node\":\"");
      if (start == std::string::npos) continue;
      start += 8;
      size_t end = line.find('"', start);
      if (end == std::string::npos) continue;
      cache->set_peer(line.substr(start, end - start), line);
    }
  }
}

}  // namespace

void DashboardCache::set_peer(const std::string& node, std::string info_json) {
  std::lock_guard<std::mutex> lock(mu_);
  peers_[node] = std::move(info_json);
}

void DashboardCache::set_children_by_node(const std::string& hub,
                                          std::map<std::string, size_t> counts) {
  std::lock_guard<std::mutex> lock(mu_);
  by_node_[hub] = std::move(counts);
}

std::string DashboardCache::peers_json(const std::vector<std::string>& connected) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out = "{";
  for (const std::string& node : connected) {
    auto it = peers_.find(node);
    if (it == peers_.end()) continue;
    out += (out.size() > 1 ? "," : "") + json_string(node) + ":" + it->second;
  }
  return out + "}";
}

std::string DashboardCache::children_by_node_json(const std::string& hub) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::string out = "{";
  if (auto it = by_node_.find(hub); it != by_node_.end()) {
    for (const auto& [name, count] : it->second) {
      out += (out.size() > 1 ? "," : "") + json_string(name) + ":" + std::to_string(count);
    }
  }
  return out + "}";
}

plexus::Result<std::unique_ptr<Dashboard>> Dashboard::start(plexus::Node& node,
                                                            const HubHost& hubs) {
  std::unique_ptr<Dashboard> d(new Dashboard(node, hubs));
  if (plexus::Status watched = d->events_.watch(node, hubs); !watched.ok()) return watched;
  d->poller_ = node.runtime().spawn(refresh, &d->cache_, &hubs);
  if (!d->poller_) {
    return plexus::Status(plexus::StatusCode::kResourceExhausted, "cannot spawn the dashboard");
  }
  return d;
}

Dashboard::~Dashboard() { node_.runtime().exit(poller_, plexus::ExitReason::kill()); }

std::string Dashboard::state_json() const {
  plexus::Runtime& rt = node_.runtime();
  std::vector<std::string> connected = node_.nodes();
  std::string peers = "[";
  for (const std::string& peer : connected) {
    plexus::NodeStats stats = node_.stats(peer);
    peers += (peers.size() > 1 ? "," : "") + std::string("{\"name\":") + json_string(peer) +
             ",\"bytes_in\":" + std::to_string(stats.bytes_in) +
             ",\"bytes_out\":" + std::to_string(stats.bytes_out) + "}";
  }
  peers += "]";
  std::string hubs = "[";
  for (plexus::hub::Hub* h : hubs_.all()) {
    hubs += (hubs.size() > 1 ? "," : "") + std::string("{\"id\":") + json_string(h->hub_id()) +
            ",\"alive\":" + json_bool(h->is_alive()) + ",\"locked\":" + json_bool(h->is_locked()) +
            ",\"partitioned\":" + json_bool(h->is_partitioned()) +
            ",\"refusal\":" + json_string(h->refusal()) +
            ",\"view\":" + std::to_string(h->view_number()) +
            ",\"members\":" + json_strings(h->nodes(true)) +
            ",\"children\":" + std::to_string(h->child_count()) +
            ",\"by_node\":" + cache_.children_by_node_json(h->hub_id()) + "}";
  }
  hubs += "]";
  return "{\"node\":" + json_string(node_.name()) +
         ",\"creation\":" + std::to_string(node_.creation()) +
         ",\"time\":" + json_string(plexus::utc_timestamp(std::chrono::system_clock::now())) +
         ",\"uptime_s\":" + std::to_string(rt.now_ms() / 1000) +
         ",\"processes\":" + std::to_string(rt.process_count()) + ",\"peers\":" + peers +
         ",\"peer_info\":" + cache_.peers_json(connected) + ",\"hubs\":" + hubs +
         ",\"down\":" + events_.down_json() + ",\"events\":" + events_.json() + "}";
}

void Dashboard::add_routes(plexus::HttpServerOptions& options) {
  for (const DashboardAsset& asset : dashboard_assets()) {
    plexus::HttpResponse response{200, content_type(asset.path), std::string(asset.body)};
    auto serve = [response](std::string_view) { return response; };
    options.routes[std::string(asset.path)] = serve;
    if (asset.path == "/index.html") options.routes["/"] = serve;
  }
  options.routes["/api/state"] = [this](std::string_view) {
    return plexus::HttpResponse{200, "application/json", state_json()};
  };
}

}  // namespace plexus_node

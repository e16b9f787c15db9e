// Hub members on real TCP nodes in this process, for the hub's benchmarks
// (hub_bench.cpp, hot_swap_bench.cpp).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "node_support.h"
#include "plexus/hub/hub.h"
#include "plexus/pid.pb.h"

namespace plexus::bench {

// The trivial child: it waits, and never gets what it waits for.
inline Task<> idle_child(Context self, PidProto) {
  for (;;) co_await self.receive<PidProto>();
}

inline hub::HubConfig bench_config() {
  hub::HubConfig c;
  c.hub_id = "bench";
  c.view_debounce = 50ms;
  c.hubs_discover_interval = 500ms;
  return c;
}

// Children PREFIX0..PREFIX{n-1} of `type`.
inline std::vector<hub::ChildSpec> specs(const std::string& prefix, int n,
                                         const std::string& type = "idle") {
  std::vector<hub::ChildSpec> out;
  out.reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) {
    hub::ChildSpec s;
    s.id = prefix + std::to_string(i);
    s.type = type;
    out.push_back(std::move(s));
  }
  return out;
}

struct Member {
  std::unique_ptr<Node> node;
  std::unique_ptr<hub::Hub> hub;
};

// A node with the idle type (and what `types` registers) and the hub of
// `config`, connected to `peers`.
template <class Types = void (*)(Node&)>
std::optional<Member> start_member(
    const std::string& base, const std::vector<std::string>& peers, const hub::HubConfig& config,
    Types types = [](Node&) {}) {
  Member m;
  m.node = start_node(base);
  if (!m.node || !m.node->register_process<PidProto>("idle", idle_child).ok()) return std::nullopt;
  types(*m.node);
  for (const std::string& p : peers) {
    if (!m.node->connect(p).ok()) return std::nullopt;
  }
  auto h = hub::Hub::start(*m.node, config);
  if (!h.ok()) return std::nullopt;
  m.hub = std::move(*h);
  return m;
}

struct Cluster {
  std::vector<Member> members;
  ~Cluster() {
    for (Member& m : members) m.hub.reset();
    members.clear();
  }
  hub::Hub& hub(size_t i) { return *members[i].hub; }
  // Starts member `base` (start_member) connected to every member here:
  // false if it did not start.
  template <class Types = void (*)(Node&)>
  bool join(
      const std::string& base, const hub::HubConfig& config, Types types = [](Node&) {}) {
    std::optional<Member> m = start_member(base, names(), config, types);
    if (!m) return false;
    members.push_back(std::move(*m));
    return true;
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const Member& m : members) out.push_back(m.node->name());
    return out;
  }
  // Every hub has a view of `n` members and is not locked.
  bool settled(size_t n) {
    return wait_until([&] {
      for (Member& m : members) {
        if (m.hub->is_locked() || m.hub->nodes(true).size() != n) return false;
      }
      return true;
    });
  }
  // Every one of `children` runs `copies` times on these members, and each
  // member's registry names it there.
  bool holds_all(size_t children, size_t copies = 1) {
    size_t local = 0;
    for (Member& m : members) local += m.hub->process_list(hub::Scope::kLocal).size();
    if (local != copies * children) return false;
    for (Member& m : members) {
      size_t served = 0;
      for (const hub::StartedChild& child : m.hub->process_list(hub::Scope::kGlobal)) {
        served += child.nodes.size() == copies;
      }
      if (served != children) return false;
    }
    return true;
  }
  bool all_have(size_t children) {
    return wait_until([&] {
      for (Member& m : members) {
        if (m.hub->child_count() != children) return false;
      }
      return true;
    });
  }
};

}  // namespace plexus::bench

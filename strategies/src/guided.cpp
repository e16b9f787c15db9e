#include "plexus/strategies/guided.h"

#include <algorithm>
#include <set>

namespace plexus::strategies {

namespace {

Status error(const char* what, const std::string& detail) {
  return Status(StatusCode::kInvalidArgument, std::string(what) + ": " + detail);
}

}  // namespace

Status Guided::check_start(const std::vector<std::string>& ids, const ChildMapping* mapping,
                           int replicas, const View& view) const {
  if (mapping == nullptr) return error("missing_child_mapping", "guided needs a child_mapping");
  // As ProcessHub: a child of the call without an entry first, then the
  // entries themselves.
  for (const std::string& id : ids) {
    auto it = mapping->find(id);
    if (it == mapping->end()) return error("child_mapping_mismatch", "no nodes for child " + id);
    if (static_cast<int>(it->second.size()) != replicas) {
      return error("child_replication_mismatch",
                   "child " + id + " has " + std::to_string(it->second.size()) +
                       " nodes, the replication factor is " + std::to_string(replicas));
    }
  }
  for (const auto& [id, nodes] : *mapping) {
    std::set<std::string_view> seen;
    for (const std::string& node : nodes) {
      if (!seen.insert(node).second) {
        return error("invalid_child_mapping", "child " + id + " names " + node + " twice");
      }
      if (!view.contains(node)) {
        return error("invalid_child_mapping", "child " + id + ": " + node + " is not a member");
      }
    }
    if (nodes.empty()) return error("invalid_child_mapping", "child " + id + " names no node");
  }
  return Status::OK();
}

std::vector<std::string> Guided::place(const PlacementInput& input) const {
  const std::vector<std::string>* nodes = input.recorded;
  if ((nodes == nullptr || nodes->empty()) && input.mapping != nullptr) {
    auto it = input.mapping->find(input.child_id);
    if (it != input.mapping->end()) nodes = &it->second;
  }
  std::vector<std::string> placed;
  if (nodes == nullptr) return placed;
  for (const std::string& node : *nodes) {
    if (static_cast<int>(placed.size()) == input.replicas) break;
    if (input.view->contains(node)) placed.push_back(node);
  }
  return placed;
}

}  // namespace plexus::strategies

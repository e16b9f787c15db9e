#include "reachability.h"

#include <algorithm>

namespace plexus::hub::detail {

Reachability::Reachability(strategies::Member self) : self_(std::move(self)), first_{self_.node} {
  sent_.from = self_;
}

bool Reachability::set_own(std::set<std::string> reached) {
  reached.erase(self_.node);
  if (reached == reaches_) return false;
  reaches_ = std::move(reached);
  computed_.reset();
  return true;
}

bool Reachability::receive(const ReachReport& report) {
  if (report.from.node == self_.node) return false;
  auto [it, fresh] = reports_.try_emplace(report.from.node, report);
  if (!fresh) {
    ReachReport& held = it->second;
    // Another incarnation's report is new (its versions start again);
    // within one, only a higher version is.
    if (held.from.creation == report.from.creation && report.version <= held.version) return false;
    held = report;
  }
  computed_.reset();
  return true;
}

bool Reachability::forget(const std::string& node) {
  if (reports_.erase(node) == 0) return false;
  computed_.reset();
  return true;
}

void Reachability::set_first(std::set<std::string> members) {
  if (members == first_) return;
  first_ = std::move(members);
  computed_.reset();
}

bool Reachability::take_report() {
  const std::set<std::string>& group = computed();
  if (sent_.version > 0 && sent_.reaches == reaches_ && sent_.group == group) return false;
  ++sent_.version;
  sent_.reaches = reaches_;
  sent_.group = group;
  return true;
}

const ReachReport* Reachability::report_of(const std::string& node) const {
  if (!reaches_.count(node)) return nullptr;  // only a neighbour's report counts
  auto it = reports_.find(node);
  return it == reports_.end() ? nullptr : &it->second;
}

bool Reachability::linked(const std::string& u, const std::string& v) const {
  auto reaches = [&](const std::string& from, const std::string& to) -> std::optional<bool> {
    if (from == self_.node) return reaches_.count(to) > 0;
    const ReachReport* r = report_of(from);
    if (r == nullptr) return std::nullopt;
    return r->reaches.count(to) > 0;
  };
  std::optional<bool> uv = reaches(u, v), vu = reaches(v, u);
  if (!uv && !vu) return false;  // nothing says they are
  return uv.value_or(true) && vu.value_or(true);
}

const std::set<std::string>& Reachability::computed() const {
  if (!computed_) computed_ = compute();
  return *computed_;
}

bool Reachability::in_a_clique() const {
  for (const std::string& node : reaches_) {
    const ReachReport* r = report_of(node);
    if (r == nullptr || r->reaches.size() != reaches_.size() || !r->reaches.count(self_.node)) {
      return false;
    }
    for (const std::string& other : r->reaches) {
      if (other != self_.node && !reaches_.count(other)) return false;
    }
  }
  return true;
}

std::set<std::string> Reachability::compute() const {
  if (in_a_clique()) {
    std::set<std::string> all = reaches_;
    all.insert(self_.node);
    return all;
  }
  // The members within two hops: this node, its neighbours, and those their
  // reports name. (A group is a clique, so one that holds this node lies in
  // its component: nodes beyond it could only make groups of their own.)
  std::set<std::string> left{self_.node};
  for (const std::string& node : reaches_) {
    left.insert(node);
    if (const ReachReport* r = report_of(node)) left.insert(r->reaches.begin(), r->reaches.end());
  }
  // Cut into groups: the members of the view first, then the others, each
  // by name. The first member left always opens a group, so each pass takes
  // at least one, and this node's group comes.
  std::vector<std::string> order;
  for (const std::string& n : left) {
    if (first_.count(n)) order.push_back(n);
  }
  for (const std::string& n : left) {
    if (!first_.count(n)) order.push_back(n);
  }
  for (;;) {
    std::set<std::string> group;
    for (const std::string& n : order) {
      if (!left.count(n)) continue;
      if (std::all_of(group.begin(), group.end(),
                      [&](const std::string& g) { return linked(n, g); })) {
        group.insert(n);
      }
    }
    if (group.count(self_.node)) return group;
    for (const std::string& g : group) left.erase(g);
  }
}

std::set<std::string> Reachability::kept() const {
  const std::set<std::string>& group = computed();
  std::set<std::string> kept;
  for (const std::string& node : group) {
    const ReachReport* r = report_of(node);
    if (node == self_.node || (r != nullptr && r->group.count(self_.node))) kept.insert(node);
  }
  return kept;
}

}  // namespace plexus::hub::detail

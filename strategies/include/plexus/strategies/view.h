// View: the numbered set of a hub's members that every placement is computed in.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace plexus::strategies {

// One incarnation of a node in a hub: its name and the creation it started
// with. A node that restarts comes back with the same name and a new creation.
struct Member {
  std::string node;  // "name@host:port"
  uint64_t creation = 0;

  friend auto operator<=>(const Member&, const Member&) = default;
};

// The members of a hub as one node sees them, numbered: a node adopts only a
// view with a higher number than its own (docs/hub.md). Members are kept
// sorted by node name and unique by name; strategies depend on nothing else.
class View {
 public:
  View() = default;
  // Sorts `members`; of two with the same node name, keeps the newer creation.
  View(uint64_t number, std::vector<Member> members);

  uint64_t number() const { return number_; }
  const std::vector<Member>& members() const { return members_; }
  size_t size() const { return members_.size(); }
  bool empty() const { return members_.empty(); }

  // The member named `node`, or null.
  const Member* find(std::string_view node) const;
  bool contains(std::string_view node) const { return find(node) != nullptr; }

 private:
  uint64_t number_ = 0;
  std::vector<Member> members_;
};

}  // namespace plexus::strategies

// The numbered view of a hub's members, kept by each member: a state machine
// with no I/O and no clock.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "plexus/strategies/view.h"

namespace plexus::hub::detail {

// One member's side of the view protocol. The hub feeds it the hub members
// this node keeps (set_reachable, or member_up / member_down), the views its peers send
// (receive), and, once membership has been quiet for its debounce, asks it
// what to propose (propose), sending any view it returns to every member it
// can reach.
//
//   any member                          the claimant (the smallest name it can
//                                       reach, itself included)
//   member_up / member_down       ...   member_up / member_down
//                                       propose() -> View{highest + 1, reachable}
//                                 <-    View
//   receive(View): adopted if its number is higher than the adopted view's
//   and it names this node
//
// A member sends its view to a peer when they connect, so after a partition
// heals the claimant of the union has seen the numbers of both sides and
// numbers its view above both. A view that does not name this node (the
// other side's) is not adopted, but its number counts. Numbers only grow,
// so every message stamped with a view number tells stale from current.
//
// A non-transitive partition (a-b and b-c up, a-c down) is cut into clean
// groups before the keeper sees it: the hub feeds it only the members it
// keeps (reachability.h).
class ViewKeeper {
 public:
  explicit ViewKeeper(strategies::Member self);

  const strategies::Member& self() const { return self_; }
  // The adopted view: at first, this node alone with number 0.
  const strategies::View& view() const { return view_; }
  // The highest view number this node has seen, adopted or not.
  uint64_t highest() const { return highest_; }
  // The members this node can reach, itself included, sorted by name.
  const std::vector<strategies::Member>& reachable() const { return reachable_; }
  // True if this node is the smallest name it can reach.
  bool is_claimant() const;

  // `member` can be reached (a hub member connected); a newer creation of a
  // known name replaces the older.
  void member_up(const strategies::Member& member);
  // `node` can no longer be reached.
  void member_down(std::string_view node);
  // The members this node reaches are `members` (this node is added), each
  // incarnation as given: true if that changed reachable().
  bool set_reachable(std::vector<strategies::Member> members);
  // A view a peer sent: true if adopted.
  bool receive(const strategies::View& view);
  // The view must be made again even if its members are the same: two of
  // them lost their connection for a while, and what they sent each other
  // may be lost with it. Only the claimant's renew() leads to a proposal.
  void renew() { renew_ = true; }
  // The claimant's next view, if this node is the claimant and its view is
  // not the set it can reach, is numbered below a view it has seen, has the
  // number of a different view it has seen, or was renewed; adopted here
  // before it is returned.
  std::optional<strategies::View> propose();

 private:
  strategies::Member self_;
  strategies::View view_;
  uint64_t highest_ = 0;
  bool contested_ = false;  // a different view with view_'s number was seen
  bool renew_ = false;
  std::vector<strategies::Member> reachable_;
};

}  // namespace plexus::hub::detail

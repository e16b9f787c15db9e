#include "view_keeper.h"

#include <algorithm>

namespace plexus::hub::detail {

using strategies::Member;
using strategies::View;

ViewKeeper::ViewKeeper(Member self) : self_(self), view_(0, {self}), reachable_{self} {}

bool ViewKeeper::is_claimant() const { return reachable_.front().node == self_.node; }

void ViewKeeper::member_up(const Member& member) {
  if (member.node == self_.node) return;
  auto it = std::lower_bound(reachable_.begin(), reachable_.end(), member.node,
                             [](const Member& m, std::string_view n) { return m.node < n; });
  if (it != reachable_.end() && it->node == member.node) {
    it->creation = std::max(it->creation, member.creation);
  } else {
    reachable_.insert(it, member);
  }
}

void ViewKeeper::member_down(std::string_view node) {
  if (node == self_.node) return;
  std::erase_if(reachable_, [&](const Member& m) { return m.node == node; });
}

bool ViewKeeper::set_reachable(std::vector<Member> members) {
  std::erase_if(members, [&](const Member& m) { return m.node == self_.node; });
  members.push_back(self_);
  std::sort(members.begin(), members.end());
  if (members == reachable_) return false;
  reachable_ = std::move(members);
  return true;
}

bool ViewKeeper::receive(const View& view) {
  highest_ = std::max(highest_, view.number());
  // Two claimants (on two sides of a split, or one before and one after a
  // restart) can give different views the same number: the claimant then
  // numbers a new one above both.
  if (view.number() == view_.number() && view.members() != view_.members()) contested_ = true;
  const Member* me = view.find(self_.node);
  // Not ours if it names another incarnation of this node, or none.
  if (view.number() <= view_.number() || me == nullptr || me->creation != self_.creation) {
    return false;
  }
  view_ = view;
  return true;
}

std::optional<View> ViewKeeper::propose() {
  // Also when its members are right but a peer has shown a higher number:
  // a restarted claimant numbers from 0, and its peers would refuse it.
  if (!is_claimant() ||
      (view_.members() == reachable_ && view_.number() == highest_ && !contested_ && !renew_)) {
    return std::nullopt;
  }
  contested_ = false;
  renew_ = false;
  View next(highest_ + 1, reachable_);
  highest_ = next.number();
  view_ = next;
  return next;
}

}  // namespace plexus::hub::detail

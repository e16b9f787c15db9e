#include "plexus/hub/handover.h"

#include <chrono>

#include "handover_messages.h"
#include "plexus/message.h"
#include "plexus/receive.h"
#include "plexus/runtime.h"

namespace plexus::hub {

namespace {
// As long as a wait can be: the hub's word, or its exit signal, ends it.
constexpr std::chrono::hours kForever{24 * 365};
}  // namespace

Task<std::optional<std::string>> begin_child(Context self) {
  ChildStart start = co_await self.receive<ChildStart>();
  if (!start.migration_target) co_return std::nullopt;
  Handover handover = co_await self.receive<Handover>();
  co_return std::move(handover.state);
}

Task<bool> hand_over(Context self, HandoverRequest request, std::string state) {
  const uint64_t move = request.move;
  (void)self.send(request.hub,
                  detail::HandoverState{move, request.child_id, self.self(), std::move(state)});
  // Only the hub's word: what else comes waits in the mailbox, in order,
  // for this copy (called off) or for the new one.
  Pid to;
  co_await self.receive(match([move](const detail::HandoverVerdict& v) { return v.move == move; },
                              [&](detail::HandoverVerdict& v) { to = v.to; }));
  if (!to) co_return false;
  for (;;) {
    std::optional<Message> next = co_await self.receive_any_request(kForever);
    if (!next) continue;
    if (next->is<detail::ForwardingEnds>()) co_return true;
    if (const Exit* exit = next->get_if<Exit>(); exit && exit->from == request.hub) {
      co_return true;  // a copy that traps exits: its parent stops it
    }
    // One with no wire form cannot follow the child to its node; nothing
    // through the hub is such (a send to a remote child must have one).
    (void)self.forward(to, std::move(*next));
  }
}

}  // namespace plexus::hub

#include "session.h"

#include <optional>

#include "plexus/node/node.h"

namespace plexus_chat {

using plexus::Call;
using plexus::Context;
using plexus::Down;
using plexus::Node;
using plexus::Pid;
using plexus::Ref;
using plexus::Task;

Task<> session(Context self, SessionArgs args) {
  Node& node = *Node::of(self);
  Pid holder;
  Ref holder_monitor;
  Presence presence;
  presence.set_session_node(node.name());
  presence.set_since_unix_ms(unix_ms());
  // When it went offline, by this runtime's clock (for kSessionLinger).
  int64_t offline_since = self.runtime().now_ms();
  constexpr std::chrono::milliseconds kAnHour{3'600'000};
  // How long the session, offline, still waits for its user.
  auto offline_left = [&] {
    int64_t left = offline_since + kSessionLinger.count() - self.runtime().now_ms();
    return std::chrono::milliseconds(std::max<int64_t>(left, 0));
  };
  for (;;) {
    bool matched = co_await self.receive(
        [&](Call<Attach>& c) {
          Attached attached;
          auto gateway = node.from_proto(c.request.gateway());
          if (!gateway.ok()) {
            attached.set_error("bad gateway pid");
          } else if (holder && holder != *gateway) {
            attached.set_error("the name " + args.user() + " is taken");
          } else if (!holder) {
            holder = *gateway;
            holder_monitor = self.monitor(holder);
            presence.set_online(true);
            presence.set_node(c.request.node());
            presence.set_since_unix_ms(unix_ms());
          }
          (void)self.reply(c.from, attached);
        },
        [&](InRoom& in) { presence.set_room(in.room()); },
        [&](Call<PresenceRequest>& c) { (void)self.reply(c.from, presence); },
        [&](Down& down) {
          if (down.ref != holder_monitor) return;
          holder = Pid();
          presence.set_online(false);
          presence.set_node("");
          presence.set_room("");
          presence.set_since_unix_ms(unix_ms());
          offline_since = self.runtime().now_ms();
        },
        plexus::after(holder ? kAnHour : offline_left(), [] {}));
    if (!matched && !holder) co_return;
  }
}

}  // namespace plexus_chat

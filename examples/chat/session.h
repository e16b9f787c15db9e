// The session: a hub child of the sessions hub, one per user name, that says
// where the user is (presence) and keeps the name to one connection.
#pragma once

#include <chrono>
#include <cstdint>

#include "chat.pb.h"
#include "plexus/context.h"
#include "plexus/task.h"

namespace plexus_chat {

// The wall clock in ms since 1970, for Presence::since_unix_ms: a time read
// on another node, whose runtime's clock started at another moment.
inline int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// How long a session outlives its user's last connection: a user who comes
// back within it (after a node's loss, say) finds the session.
inline constexpr std::chrono::milliseconds kSessionLinger{60'000};

// Session `args.user()`: Attach gives it to a gateway while no other live
// gateway holds it (the session monitors the holder); InRoom says where the
// user is; PresenceRequest is answered from any node. Offline for
// kSessionLinger, it ends normally (a transient child: then unregistered
// everywhere). If its node is lost the hub starts it again elsewhere,
// offline, and the user's gateway attaches again.
plexus::Task<> session(plexus::Context self, SessionArgs args);

}  // namespace plexus_chat

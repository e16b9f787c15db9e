// The session: a hub child of the sessions hub, one per user name, that says
// where the user is (presence) and keeps the name to one connection.
#pragma once

#include "chat.pb.h"
#include "chat_hubs.h"
#include "plexus/context.h"
#include "plexus/task.h"

namespace plexus_chat {

// How long a session outlives its user's last connection: a user who comes
// back within it (after a node's loss, say) finds the session.
inline constexpr std::chrono::milliseconds kSessionLinger{60'000};

// Session `args.user()`: Attach gives it to a gateway while no other live
// gateway holds it (the session monitors the holder); InRoom says where the
// user is; PresenceRequest is answered from any node. Offline for
// kSessionLinger, it ends normally (a transient child: then unregistered
// everywhere). If its node is lost the hub starts it again elsewhere,
// offline, and the user's gateway attaches again.
plexus::Task<> session(plexus::Context self, SessionArgs args, ChatHubs* hubs);

}  // namespace plexus_chat

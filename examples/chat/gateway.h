// The gateway: the process that speaks the chat's line protocol for one TCP
// connection, on the node the client connected to.
#pragma once

#include <memory>

#include "chat_hubs.h"
#include "connection.h"
#include "plexus/context.h"
#include "plexus/task.h"

namespace plexus_chat {

// Reads the client's lines (LineIn) and answers them on `connection`:
//
//   /nick NAME      take the name (the session NAME, a hub child)
//   /join ROOM      join ROOM (a hub child with two copies), leaving the last
//   /leave          leave the room
//   TEXT            post TEXT to the room: "ok ROOM INDEX" once both copies
//                   of the room hold it, or "! not sent: WHY"
//   /history [N]    "history ROOM COUNT", the last N (20) messages, "end"
//   /who            who is in the room
//   /whois NAME     where NAME is (presence, from NAME's session)
//   /where [ROOM]   the nodes of the room's copies, the active one first
//   /help, /quit
//
// The room's messages arrive as "ROOM INDEX USER: TEXT"; notices start with
// "* ", errors with "! ". If the room's active copy or the session goes (its
// node lost, a migration), the gateway joins or attaches again through the
// hub, and says so. It ends with its connection.
plexus::Task<> gateway(plexus::Context self, std::shared_ptr<Connection> connection,
                       ChatHubs* hubs);

}  // namespace plexus_chat

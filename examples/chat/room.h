// The room: a hub child of the rooms hub (replication 2, active/passive),
// one per room name.
#pragma once

#include "chat.pb.h"
#include "chat_hubs.h"
#include "plexus/context.h"
#include "plexus/task.h"

namespace plexus_chat {

// A copy of room `args.room()`. The active copy (the first of the child's
// record) takes posts and joins; it hands each new message to every other
// copy, and acknowledges it (PostReply with its index) only once each of
// them (at least one: a room with one copy acknowledges nothing) holds it,
// so an acknowledged message outlives the active copy's node. Members
// (gateways) get each message once it is acknowledged.
//
// A copy that starts, or becomes active, without the log asks the others
// for theirs (SnapshotRequest) and answers "syncing" meanwhile; a copy that
// stops being active tells its members to join again (RoomMoved). An active
// copy asked for its log by a copy its registry does not name yet (one
// starting elsewhere, maybe the next active copy) acknowledges nothing
// until the registry names it, so the newcomer's snapshot plus what is
// replicated to it holds every acknowledged message.
plexus::Task<> room(plexus::Context self, RoomArgs args, ChatHubs* hubs);

}  // namespace plexus_chat

// Saved state: what a child of a durable hub (HubConfig::store_path) keeps
// through a restart of the whole cluster.
//
//   child, on node N                     N's hub server            N's store
//   save_state(self, hub, id, state) --> a copy of `id` here? ----> "s/<id>"
//        <--------------------------- OK once written
//   ... every node killed, then started again ...
//   begin_child(self) <- ChildStart{migration_target, restored}
//                     <- Handover{the state last saved}
//
// The child's copy that starts again, on whichever member the hub places
// it, is a migration target of no move: begin_child() returns the state its
// previous copy last saved (a child that saved none starts afresh, and gets
// nullopt). Every copy of a durable hub's child gets a ChildStart first, so
// that it can tell. A copy moved by a cold swap starts from that state too
// (its old copy's store sends it along); one restarted by its supervisor
// starts afresh, as ever (docs/hub.md, "Durable children").
#pragma once

#include <chrono>
#include <string>

#include "plexus/context.h"
#include "plexus/status.h"
#include "plexus/task.h"

namespace plexus::hub {

// In a copy of child `child_id` of hub `hub_id` (as its ChildStart names
// them): keeps `state` as the child's last saved state, in the store of
// this node's member. OK once the store has written it (to the operating
// system; to disk too with HubConfig::store_sync). kNotFound if this node
// runs no hub `hub_id`, or this process is not the running copy of the
// child here; kInvalidArgument if the hub keeps no store; kUnavailable if
// the store failed to write it; kTimeout after `timeout`.
Task<Status> save_state(Context self, std::string hub_id, std::string child_id, std::string state,
                        std::chrono::milliseconds timeout = std::chrono::seconds(5));

}  // namespace plexus::hub

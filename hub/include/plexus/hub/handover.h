// Handover: what a child of a hub with hot swap (strategies::HotSwap) does
// when it moves to another member.
//
//   new copy, on node N                 hubs                  old copy, on O
//   begin_child(self) <- ChildStart{migration_target}
//                                       MoveBegin: senders through
//                                       the hub hold their messages
//                                       HandoverRequest ---------> hand_over(self,
//        <- Handover{state} <---------- (O's hub, then N's)  <---    request, state)
//   returns the state                   commit: the new pid        forwards what
//        <- held messages, then what the old copy forwards         reaches it, until
//                                                                  the hub says it
//                                                                  is done
//
// ProcessHub's prepare_handover_state is what the old copy passes to
// hand_over(); its alter_handover_state is what the new copy does with what
// begin_child() returns. A handover that does not end within the hub's
// migr_base_timeout is called off: hand_over() returns false, the old copy
// carries on, and the new one is stopped.
#pragma once

#include <optional>
#include <string>

#include "plexus/context.h"
#include "plexus/pid.h"
#include "plexus/task.h"

namespace plexus::hub {

// The first message each copy of a hot-swap or durable hub's child gets (a
// restarted copy too). `migration_target`: it starts to take over a moving
// child, and a Handover comes next. `restored` (with migration_target): the
// Handover brings the state the child's last copy saved
// (plexus/hub/saved_state.h), not a hot swap's: a durable child back after
// a restart of the whole cluster, or moved by a cold swap.
struct ChildStart {
  std::string hub_id;
  std::string child_id;
  bool migration_target = false;
  bool restored = false;
};

// Asks the copy that moves for its state: answer with hand_over().
struct HandoverRequest {
  std::string hub_id;
  std::string child_id;
  Pid hub;            // the hub server that asks
  uint64_t move = 0;  // which move
};

// What the new copy gets: the state the old one handed over, or none if
// the move was called off after all and this copy is the child, afresh.
struct Handover {
  std::string hub_id;
  std::string child_id;
  std::optional<std::string> state;
};

// In every copy of a hot-swap or durable hub's child, before anything else:
// takes its ChildStart and, for a migration target, waits for its Handover.
// The handed-over (or saved) state, or nullopt for a copy that starts
// afresh.
Task<std::optional<std::string>> begin_child(Context self);

// In the copy that moves, on a HandoverRequest: gives the hub `state` and
// waits for its word, leaving other messages queued. If the move goes on,
// forwards every message, call and cast that is or comes into the mailbox
// to the new copy, in order, until the hub says nothing more will come
// (then it returns true, and the copy should end: the hub kills it after its
// shutdown time); also true if the process traps exits and its parent's exit
// signal came. False if the move was called off: the copy goes on with its
// state, and nothing it holds was taken.
Task<bool> hand_over(Context self, HandoverRequest request, std::string state);

}  // namespace plexus::hub

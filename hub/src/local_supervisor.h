// LocalSupervisor: the hub children placed on this node (ProcessHub's
// distributed supervisor).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "hub_state.h"
#include "plexus/context.h"
#include "plexus/message.h"
#include "plexus/runtime.h"
#include "plexus/supervisor.h"

namespace plexus::hub::detail {

// Asks the supervisor to kill a child that did not stop within its shutdown
// time.
struct HaltTimeout {
  Pid pid;
};

// Runs in the hub server's process, which traps exits: every child is
// linked to it, so a child's exit comes as an Exit, and the server's death
// takes its children with it (a node's hub children never outlive its hub).
// Only the server's thread calls it.
//
// A child restarts as its spec says (permanent always, transient after an
// abnormal exit, temporary never), at most dsup_max_restarts times within
// dsup_max_seconds; past that, or when it ends for good, it is given up and
// kept in ended() until the decider's tombstone for it arrives, so that the
// news survives a view change.
class LocalSupervisor {
 public:
  // What an Exit from a linked process meant.
  struct Outcome {
    enum Kind {
      kNotMine,    // not a child here
      kHalted,     // a child stopped on purpose (halt) ended
      kRestarted,  // it died and runs again, as `pid`
      kEnded,      // it ended for good: `record` is its last version here
    };
    Kind kind = kNotMine;
    RecordPtr record;
    Pid pid;
  };

  LocalSupervisor(HubState& state, Context self) : state_(state), self_(self) {}

  // A child running here: the newest record of it this member knows (the
  // version it was started as, or a committed one, which names every copy)
  // and the pid of its copy here. For a copy that handed the child over
  // (hot swap) and whose commit has not come: the new copy, and its node.
  struct Copy {
    RecordPtr record;
    Pid pid;
    std::string node;           // empty: this node
    bool awaits_state = false;  // a migration target whose state has not come
  };

  // Starts the child of `record` here, linked to the server: running()
  // reports it with `record` and its new pid. With a hot-swap or durable hub
  // the child is sent a ChildStart first; a `migration_target` waits for the
  // state of the move that `record`'s version is (give_state), and is
  // reported as waiting until it comes. With a `saved_state` (a durable
  // child restored) it is sent that as its Handover at once, and waits for
  // nothing. kAlreadyExists (its pid in running_pid()) if the id runs here:
  // a waiting target asked to run again waits for that move's state instead
  // (as a target) or starts afresh (otherwise). A copy here that handed the
  // child over (a forwarder) is halted, and the child starts anew.
  Result<Pid> run(const RecordPtr& record, bool migration_target = false,
                  const std::string* saved_state = nullptr);
  // Gives the migration target of `id` its Handover: the state of `move`,
  // or none (move 0: it starts afresh). A target that restarted before its
  // state came waits for it again. False if no target of `id` waits here
  // for that move.
  bool give_state(std::string_view id, uint64_t move, std::optional<std::string> state);
  // True if `id` runs here as a migration target still waiting for its state.
  bool awaits_state(std::string_view id) const;
  // The copy of `id` here handed the child over to `pid` on `node`: it only
  // forwards now, is never restarted, and is reported as that copy until it
  // is halted.
  // Its record (null if no copy of `id` runs here).
  RecordPtr handed_over(std::string_view id, const std::string& node, Pid pid);
  bool has_handed_over(std::string_view id) const;
  // Stops the child of `id` (shutdown, then kill after its shutdown time,
  // or after `at_most` if that is sooner; a copy that handed the child over
  // is sent ForwardingEnds instead of shutdown, to forward what it holds
  // first): false if it does not run here.
  // Its end comes as kHalted.
  bool halt(std::string_view id,
            std::chrono::milliseconds at_most = std::chrono::milliseconds::max());
  Outcome on_exit(const Exit& exit);
  void on_halt_timeout(Pid pid);
  // A committed record of a child that runs here (same pid): it becomes the
  // version running() reports, and the child is told its mode if it changed
  // (RedundancySignal, when the hub's redundancy signals it).
  void adopt(const RecordPtr& record);
  // A tombstone, or a newer record placed elsewhere: forgets the ended entry.
  void forget_ended(std::string_view id, const ChildRecord& newer);
  // The tombstone of an incarnation (ChildRecord::origin): a copy here of
  // that incarnation, or an older one, is halted (true); a copy of a newer
  // incarnation, whose record has not come yet, runs on.
  bool halt_ended(const ChildRecord& tombstone);

  Pid running_pid(std::string_view id) const;
  bool halting(std::string_view id) const;
  size_t size() const { return children_.size(); }
  // The children running here (not those halting).
  std::vector<Copy> running() const;
  std::vector<RecordPtr> ended() const;
  // Every child running here, to stop them all (a graceful leave).
  std::vector<std::string> ids() const;

 private:
  struct Child {
    RecordPtr record;
    Pid pid;
    bool halting = false;
    RestartIntensity intensity;  // dsup_max_restarts in dsup_max_seconds
    // The mode it was last given (by its place in its record); none until its
    // first committed record, and again after a restart (a new process).
    std::optional<strategies::Redundancy::Mode> mode;
    bool awaits_state = false;   // a migration target whose Handover has not come
    uint64_t awaits_move = 0;    // ... of this move
    std::string handed_to_node;  // set once it handed the child over
    Pid handed_to;
  };
  void tell_mode(Child& child, size_t index);
  // Spawns the child's process (and, with a hot-swap or durable hub, sends
  // it its ChildStart, and a saved state's Handover): its pid, or why not.
  Result<Pid> spawn(const ChildSpec& spec, bool migration_target, const std::string* saved_state);

  HubState& state_;
  Context self_;
  std::unordered_map<std::string, Child> children_;
  std::unordered_map<uint64_t, std::string> by_pid_;  // pid key -> id
  std::unordered_map<std::string, RecordPtr> ended_;
  size_t handed_over_ = 0;  // children here that handed over (has_handed_over)
};

}  // namespace plexus::hub::detail

// Decider: one member's authority over the segments it heads in its view.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "hub_state.h"
#include "message_parts.h"
#include "plexus/hub.pb.h"
#include "plexus/strategies/view.h"

namespace plexus::hub::detail {

// What the decider needs done; the hub server implements it. Every call may
// be made while the decider is in one of its methods: the port must not call
// back into it (answers come later, as messages).
class DeciderPort {
 public:
  virtual ~DeciderPort() = default;
  // Runs `record`'s child on `node`; the answer comes as child_running(). A
  // `migration_target` (hot swap) waits for the state of the copy that moves;
  // a durable child restored starts from its `saved_state` (if not null).
  virtual void run_on(const std::string& node, const RecordPtr& record, bool migration_target,
                      const std::shared_ptr<const std::string>& saved_state) = 0;
  // Stops the child `id` on `node`; the answer comes as child_halted().
  virtual void halt_on(const std::string& node, const std::string& id) = 0;
  // Applies a record here and broadcasts it to the members (a version this
  // decider committed, or one it learned in a handoff round).
  virtual void publish(const RecordPtr& record) = 0;
  // Applies a record a member sent here only: true if it was news.
  virtual bool learn(const RecordPtr& record) = 0;
  // Adds to the answer of a caller's call (sent once the current message is
  // handled).
  virtual void started(const std::string& caller, uint64_t call, const RecordPtr& record) = 0;
  virtual void stopped(const std::string& caller, uint64_t call, const RecordPtr& tombstone,
                       const std::vector<std::string>& nodes) = 0;
  virtual void failed(const std::string& caller, uint64_t call, bool start,
                      ChildErrorProto error) = 0;
  // Sends a request on to the member that decides it now.
  virtual void forward_start(const std::string& member, StartRequest request) = 0;
  virtual void forward_stop(const std::string& member, StopRequest request) = 0;
  // Sends records of some segments to a member (a handoff round's answer).
  virtual void send_records(const std::string& member, SegmentRecords records) = 0;
  // A cold swap of `id` from one member to another is done.
  virtual void migrated(const std::string& id, const std::string& from, const std::string& to) = 0;

  // ---- Hot swaps (docs/hub.md, "Migration")
  // Child `id`, whose copy on `from` moves (as version `move`): every member
  // holds what Hub::send sends it from now on, and tells `from` it does.
  virtual void begin_move(const std::string& id, const std::string& from, uint64_t move) = 0;
  // Asks `from` to have its copy hand the child over to `to` on `to_node`
  // once every member holds; the answer comes as handed_over(), and
  // handover_due() after migr_base_timeout.
  virtual void hand_over(const std::string& from, const std::string& id, uint64_t move, Pid to,
                         const std::string& to_node) = 0;
  // The handover is late: asks `from` to call it off (the answer comes as
  // handed_over(), called off or done after all).
  virtual void call_off(const std::string& from, const std::string& id, uint64_t move) = 0;
  // A move ended without a commit: every member sends what it holds to the
  // child where it is.
  virtual void end_move(const std::string& id) = 0;

  // ---- Quorum strategies (docs/hub.md, "Partitions: quorum")
  // True while a copy on `node`, a member outside the view, may still run:
  // within fence_margin of its loss (the time starts when the port is first
  // asked about a node it knows nothing of). Always false with divergence.
  virtual bool fenced(const std::string& node) = 0;
};

// A copy of a child claimed by the member that runs it.
struct Claim {
  std::string node;
  // The newest version of the child the member knows: the one it was
  // started as (no pids yet), or a committed one (naming every copy). Never
  // a record of its own making: two records of one id and version are the
  // same record on every node.
  RecordPtr record;
  Pid pid;  // its copy there
  // A hot swap's new copy still waiting for its state: never kept, reused
  // only by a start on its node.
  bool awaits_state = false;
};

// The state a durable child saved, as a member's store gave it back when the
// hub started (SavedStateProto): the version of the record it was kept with.
struct SavedState {
  std::string id;
  uint64_t epoch = 0;
  uint32_t stamp = 0;
  std::shared_ptr<const std::string> state;
};

// The hub's ownership protocol (docs/hub.md, "Ownership"). In each view,
// the first member of a segment's rendezvous order decides its children:
//
//   adopt(view)  -> locked: every member sends it a Handoff (the children
//                   it runs there, those that ended, its digests); segments
//                   whose digests differ are swapped both ways
//                -> reconcile: each child runs exactly once, where the
//                   strategy says: missing ones start, duplicates and
//                   stopped ones halt, misplaced ones move (cold swap, or
//                   hot swap: the new copy starts, every member holds the
//                   child's messages, the old copy hands its state over,
//                   then the commit names the new copy)
//                -> ready: queued starts and stops run
//   start(id)    -> registered (a new epoch) before it runs anywhere; a
//                   second start of the id waits for the first and gets
//                   already_started with the same pid
//   stop(id)     -> halted where it runs, then a tombstone (a new epoch)
//
// A view change aborts what is in flight: the requests are queued again
// (marked retry) and the children they touched are found by the next
// handoff. Answers stamped with another view are ignored. No I/O, no clock:
// everything goes through the port; the server's thread calls every method.
class Decider {
 public:
  Decider(HubState& state, DeciderPort& port);

  const strategies::View& view() const { return view_; }
  bool ready() const { return ready_; }
  // The member that decides `segment` in this member's view.
  const std::string& owner(uint32_t segment) const {
    return view_.members()[owners_[segment]].node;
  }
  bool decides(uint32_t segment) const { return owners_[segment] == self_index_; }
  // Segments whose last decider is lost and fenced, by that member (the
  // handoffs pass them on to the deciders of the new view).
  const std::unordered_map<uint32_t, std::string>& fenced_segments() const {
    return fenced_segments_;
  }

  void adopt(const strategies::View& view);
  void handoff(const Handoff& handoff);
  // This member's own handoff, without a wire form: the children its
  // supervisor runs (and gave up) in the segments it decides, and the saved
  // states its store gave back.
  void own_handoff(const std::vector<Claim>& running, const std::vector<RecordPtr>& ended,
                   const std::vector<SavedState>& saved);
  void segment_records(const SegmentRecords& records);

  void start(StartRequest request);
  void stop(StopRequest request);
  void child_running(const std::string& from, const ChildRunning& running);
  void child_halted(const std::string& from, const ChildHalted& halted);
  void child_event(const std::string& from, const ChildEvent& event);
  // Member `member` leaves gracefully: nothing is placed on it from now on
  // (while it stays in the view), and the children it runs in the segments
  // this member decides move off it, by hot swap where they can.
  void drain_member(const strategies::Member& member);

  // A hot swap's old node answered: handed over (the commit follows), or
  // called off (the new copies halt, and the child stays where it was).
  void handed_over(const std::string& from, const HandedOver& answer);
  // migr_base_timeout after hand_over(): calls the handover off unless done.
  void handover_due(const std::string& id, uint64_t move);
  // A record of another member's that reached this node outside a handoff
  // round (a delta, anti-entropy, a late answer): if this member decides
  // it and it names a pid of a node outside the view, nothing runs it
  // here, and it is started again as a reconcile would.
  void learned(const RecordPtr& record);

  // Operations in flight (for tests and is_locked).
  size_t in_flight() const { return ops_.size(); }
  // The children the last reconcile started or moved (and forgets them).
  std::vector<std::string> take_moves() { return std::move(moves_); }

 private:
  struct Waiter {
    std::string caller;
    uint64_t call = 0;
    bool already = false;  // a second start: answered already_started
  };
  struct Op {
    RecordPtr record;                     // the version being made to run (or stopped)
    std::set<std::string> halting;        // members whose halt is awaited
    std::set<std::string> starting;       // members whose run is awaited
    std::vector<std::string> then_start;  // after the halts: run on these members
    // Where the child runs once this op commits, in placement order (the
    // first is the active copy), and the copies that run there: kept ones
    // and those this op started. Empty for a stop.
    std::vector<std::string> places;
    std::map<std::string, Pid> copies;
    std::string moved_from;  // a cold or hot swap: where it ran
    // A durable child's saved state, which the copies it starts start from:
    // one restored that runs nowhere (from a handoff), or one a cold swap
    // moves (from the halted copy's ChildHalted).
    std::shared_ptr<const std::string> saved_state;
    // A hot swap: the copy on `node` hands the child over to the copy that
    // starts on places[0] (version `move`, record's epoch once started).
    struct Swap {
      std::string node;
      Pid pid;
      uint64_t move = 0;
      bool asked = false;        // hand_over() sent
      bool calling_off = false;  // call_off() sent
      bool done = false;         // handed over: the commit is due
    };
    std::optional<Swap> swap;
    bool counted = false;             // in pending_loads_ until it runs
    bool then_tombstone = false;      // after the halts: commit a tombstone
    bool given_up = false;            // a kept copy ended for good meanwhile
    std::vector<std::string> ran_on;  // for a stop's answer
    std::vector<Waiter> starts;
    std::vector<Waiter> stops;

    bool starts_copies() const { return !starting.empty() || !then_start.empty(); }
  };
  struct Round {
    std::vector<RecordPtr> learned;  // news from the members, published at the end
    std::set<std::string> awaiting_handoff;
    std::set<std::string> awaiting_records;
    // The parts of each member's handoff, and of its answer to this
    // decider's records, taken so far.
    std::unordered_map<std::string, PartsReceived> handoff_parts;
    std::unordered_map<std::string, PartsReceived> answer_parts;
    std::unordered_map<std::string, std::vector<Claim>> running;
    std::unordered_map<std::string, RecordPtr> ended;
    // Saved states of durable children, the newest version's of each.
    std::unordered_map<std::string, SavedState> saved;
  };

  uint64_t next_epoch() { return view_.number() << 32 | ++counter_; }
  RecordPtr decode_record(const ChildRecordProto& proto);
  std::vector<std::string> place(const ChildRecord& record,
                                 const strategies::ChildMapping* mapping);
  // A new version of `base`'s child, newer than any this node knows.
  RecordPtr version(const ChildRecord& base, std::vector<Pid> pids, bool tombstone);
  void above_known(ChildRecord& record) const;
  ChildErrorProto already_started(const ChildRecord& record) const;

  void start_one(const StartRequest& request, const ChildSpecProto& spec,
                 const strategies::ChildMapping& mapping);
  void stop_one(const StopRequest& request, const std::string& id);
  void begin(Op op);
  void advance(const std::string& id);
  // Runs `op`'s child on each of `nodes` (a new version of its record); the
  // first is a migration target if `op` is a hot swap.
  void run_copies(Op& op, const std::vector<std::string>& nodes);
  // Where a hot swap waits on the old node: false once it needs nothing.
  bool swap_waits(const std::string& id, Op& op);
  // A hot swap that will not happen: the copies it started halt, and the
  // child stays where it was.
  void call_swap_off(const std::string& id, Op& op, const std::string& why);
  // The copies of a start or a reconcile all answered: commits the record
  // of those that run, in placement order.
  void commit(const std::string& id);
  void finish_start(Op& op, const RecordPtr& committed);
  // Halts every copy of `record`'s child, then commits its tombstone.
  void give_up(const RecordPtr& record, std::vector<Waiter> stops);
  void claim_running(Claim claim);
  void claim_ended(const RecordPtr& record);
  void claim_saved(SavedState saved);
  void check_round();
  void reconcile();
  void reconcile_one(const std::string& id, const std::vector<Claim>& running,
                     const RecordPtr& ended);
  // True if `record` names a copy on a fenced member (port's fenced()), or
  // its segment's last decider is one.
  bool fenced(const ChildRecord& record);
  // Before `next` is adopted: the segments whose decider in this view is
  // lost and fenced (it may have starts and moves in flight) join
  // fenced_segments_; those whose member is back or no longer fenced leave.
  void fence_segments(const strategies::View& next);
  // A member outside `next` that `op` ran or halted a copy on and that is
  // fenced, or "".
  std::string fenced_member(const Op& op, const strategies::View& next);
  // The claims a record makes for its copies on members of the view.
  std::vector<Claim> claims_of(const RecordPtr& record) const;
  void drain();
  // Erases the op of `id` and runs the requests deferred behind it.
  void done(const std::string& id);
  // Reconciles `id` if no op of it is in flight and a copy of it runs on a
  // draining member: a drain passes by the children in an op (a move onto
  // the member, begun before its drain), which move off once it is done.
  void move_off_draining(const std::string& id);
  void defer(const std::string& id, const StartRequest& request, const ChildSpecProto& spec);
  void defer(const std::string& id, const StopRequest& request);

  HubState& state_;
  DeciderPort& port_;
  const uint32_t stamp_;
  strategies::View view_;
  // Members that leave gracefully (drain_member), and the view less them,
  // which placements are made in while there are any.
  std::set<strategies::Member> draining_;
  strategies::View placing_view_;
  std::vector<uint32_t> owners_;  // segment -> index of its decider in view_
  uint32_t self_index_ = 0;
  uint32_t counter_ = 0;
  bool ready_ = false;
  Round round_;
  // Handoffs and records sent for a view this member has not adopted yet.
  std::map<uint64_t, std::vector<Handoff>> early_handoffs_;
  std::map<uint64_t, std::vector<SegmentRecords>> early_records_;
  // Requests waiting for the round to end (or for a view of their number).
  std::deque<StartRequest> queued_starts_;
  std::deque<StopRequest> queued_stops_;
  // Starts that were in flight to a member now fenced, or of a segment whose
  // last decider is (by that member), queued again by the first view after
  // its fence lifts.
  std::vector<std::pair<std::string, StartRequest>> fenced_starts_;
  // Segments whose last decider is fenced, by that member: their children
  // are held and their starts wait.
  std::unordered_map<uint32_t, std::string> fenced_segments_;
  std::unordered_map<std::string, Op> ops_;
  std::vector<std::string> moves_;  // take_moves()
  // Starts placed and not yet running, by member (for a distribution that
  // reads loads), and the loads a placement is given.
  strategies::NodeLoads pending_loads_;
  strategies::NodeLoads placing_loads_;
  // Requests for an id whose op must end first (single-child requests).
  std::unordered_map<std::string, std::vector<StartRequest>> deferred_starts_;
  std::unordered_map<std::string, std::vector<StopRequest>> deferred_stops_;
};

}  // namespace plexus::hub::detail

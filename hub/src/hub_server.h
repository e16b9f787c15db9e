// HubServer: one node's member of a hub, as a process.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "anti_entropy.h"
#include "calls.h"
#include "decider.h"
#include "gossip_relay.h"
#include "handover_messages.h"
#include "hub_state.h"
#include "local_supervisor.h"
#include "message_parts.h"
#include "plexus/hub.pb.h"
#include "plexus/server.h"
#include "quorum_keeper.h"
#include "reachability.h"
#include "view_keeper.h"

namespace plexus::hub::detail {

// The server registered as "plexus.hub.<hub_id>" on each member. It finds
// the other members (a Hello on every connection, and every
// hubs_discover_interval), keeps the view (ViewKeeper), decides the
// segments it heads (Decider), supervises the children placed here
// (LocalSupervisor), runs this node's calls (Calls), broadcasts what its
// decider commits and runs anti-entropy. Everything that changes the
// registry happens here, one message at a time; the Hub's queries read the
// registry from other threads.
//
// What it sends in one callback leaves at its end: the committed records as
// one change (RecordsDelta; to every member with pubsub, to the first of
// each part with gossip), and each call's answers as one reply.
//
// Its methods are in seven files: hub_server.cpp (the messages, applying
// records, which_children, leaving), hub_server_sync.cpp (changes on
// their way, and anti-entropy), hub_server_views.cpp (members
// and views), hub_server_children.cpp (the children run here, and the
// decider's port), hub_server_moves.cpp (hot swaps),
// hub_server_partitions.cpp (partition mode and fences) and
// hub_server_store.cpp (a durable hub's store).
class HubServer final : public Server, private DeciderPort {
 public:
  explicit HubServer(std::shared_ptr<HubState> state);

  Status init() override;
  void handle_info(Message& msg) override;
  // Calls from this node's children: SaveState (plexus/hub/saved_state.h).
  void handle_call(Message& request, const From& from) override;
  void terminate(const ExitReason& reason) override;

 private:
  // Timers (to itself).
  struct Propose {
    uint64_t generation;
  };
  struct Discover {};
  struct RoundTimeout {
    uint64_t view;
  };
  struct Sync {};
  struct Regroup {};
  struct CutDue {
    uint64_t generation;
  };
  struct Purge {};
  // The gossip relay has sends whose acknowledgement is due.
  struct GossipDue {};

  void dispatch(Message& msg);
  void flush();

  // ---- Membership and views
  void hello(const std::string& node, bool answer);
  void on_hello(const HubHello& hello);
  void on_view(const HubView& view);
  // Sends this node's view to `node`: a proposal to adopt, or (refusal) to
  // show it.
  void send_view(const std::string& node, bool refusal);
  void on_refused(const HubRefused& refused);
  void member_gone(const std::string& node);
  // The members reached changed, or a report came: a changed report goes
  // out after the view debounce, and the view keeper gets the members
  // reached less those cut. A cut that Reachability asks for is made once
  // it has stood for partition_cut_delay; one it no longer asks for is
  // undone at once. Run once for a burst (a message to itself, after what
  // is queued: a hundred members' reports come at once).
  void regroup_later();
  void regroup();
  void on_cut_due(uint64_t generation);
  // Gives the keeper members_ less cut_: true if that changed it.
  bool feed_keeper();
  void on_reach(const HubReach& reach);
  void send_report(const std::string& node);
  // Asks for a new view of the same members (ViewKeeper::renew).
  void renew();
  void membership_changed();
  void on_propose(uint64_t generation);
  void adopt(const strategies::View& view);
  std::vector<Handoff> handoff_for(const std::string& member);  // in parts
  // The copies this node claims in a handoff: those it runs, and those its
  // copies handed children over to (handed_).
  std::vector<LocalSupervisor::Copy> claimed() const;
  uint32_t node_number(const strategies::Member& member);

  // ---- This node as a member running children
  void on_run(const RunChild& run);
  void on_halt(const HaltChild& halt);
  // The answer to a decider that child `id` no longer runs here (with the
  // state it saved last, for a durable child's cold swap).
  ChildHalted halted(const std::string& id, uint64_t view);
  void on_exit(const Exit& exit);
  void event(const RecordPtr& record, Pid restarted_as);

  // ---- Hooks
  void hook(HookEvent event, const HookData& data);
  void record_hooks(const RecordPtr& old, const RecordPtr& now);
  // Keeps HubState::loads for a distribution that reads them.
  void count_loads(const RecordPtr& old, const RecordPtr& now);
  // Starts `record`'s child here, with the children-start hooks around it
  // (from `saved_state`, if not null: a durable child restored).
  Result<Pid> run_here(const RecordPtr& record, bool migration_target = false,
                       const std::string* saved_state = nullptr);
  // Runs `record`'s child here for a decider and fills its answer: the pid
  // (one that ran already, marked existing if it is no waiting target), or
  // why not.
  void run_for_decider(const RecordPtr& record, bool migration_target,
                       const std::string* saved_state, ChildRunning* answer);

  // ---- Records (hub_server_sync.cpp but apply)
  void apply(const RecordPtr& record);
  // A peer's record, or null (logged) if it is malformed.
  RecordPtr decode_or_log(const ChildRecordProto& proto);
  // Applies each well-formed record and tells the decider.
  void take_records(const google::protobuf::RepeatedPtrField<ChildRecordProto>& records);
  // delta_ as one change, on its way to every other member of the view.
  void send_delta();
  // Sends what the gossip relay returned (counted in the metrics); with
  // gossip, a part whose head this node does not reach goes on at once
  // (gossip_lost).
  void pass_on(std::vector<GossipRelay::Send> sends);
  void resend(std::vector<GossipRelay::Send> sends);
  // A change from a peer: acknowledged (gossip), passed on if new, applied.
  void on_delta(RecordsDelta& delta);
  void on_gossip_due();
  // What was sent to `node`, lost, goes to the next members of its parts.
  void gossip_lost(const std::string& node);
  void arm_gossip_due();
  bool is_member(const std::string& node) const;
  // Every greeted node answered or runs no such hub, and every member
  // reached (but those cut) is in the decider's view.
  bool all_reached_in_view() const;
  // A Hello (answer wanted) to a node that came up, and its monitor.
  void greet(const std::string& node);
  // `node` answered, refused or went down: its greeting is settled.
  void greeted(const std::string& node);
  // is_member, as the gossip relay asks it.
  GossipRelay::IsMember reached() const;
  void on_records(const SegmentRecords& records);
  void on_summary(const DigestSummary& summary);
  void sync();
  void purge();

  // ---- Hot swaps (hub_server_moves.cpp; docs/hub.md, "Migration")
  struct HandoverDue {
    std::string id;
    uint64_t move;
  };
  // A target that no handover reached: halted (its move was lost).
  struct TargetDue {
    std::string id;
    Pid pid;
  };
  // A hot swap whose old copy runs here, from the first word of it (a
  // fence, or the decider's HandOver) until it is handed over or called off.
  struct Outgoing {
    uint64_t move = 0;
    std::set<std::string> fenced;  // members that hold the child's messages
    std::string decider;           // empty until its HandOver came
    Pid to;                        // the new copy
    std::string to_node;
    Pid asked;                // the copy a HandoverRequest went to
    bool called_off = false;  // its state, if it comes, is turned down
  };
  // True if `node` decides child `id` in this node's view: only its
  // decider moves a child.
  bool decides_in_view(const std::string& node, const std::string& id) const;
  // Every member: holds Hub::send's messages to the moving children.
  void on_move_begin(const MoveBegin& begin);
  // Sends what this node holds for `id` to where the child is now, and
  // ends the hold (its commit applied, the move called off, a view change);
  // while no copy of it is served, holds on until a record names one.
  void end_hold(const std::string& id);
  // The old copy's node.
  void on_fenced(const MoveFenced& fenced);
  void on_hand_over(const HandOver& hand_over);
  void on_call_off(const CallOffHandover& call_off);
  void on_handover_state(HandoverState& state);
  // Once every member holds and the decider asked: the copy is asked.
  void try_request(const std::string& id, Outgoing& out);
  void answer_decider(const std::string& id, const Outgoing& out, bool called_off,
                      const std::string& reason);
  void tell_decider(const std::string& decider, uint64_t view, const std::string& id, uint64_t move,
                    bool called_off, const std::string& reason);
  // The new copy's node.
  void on_state(const HandoverStateProto& state);
  // A view change calls off what was not handed over, and ends every hold
  // whose old copy is still the child (asked of its node: HoldQuery); the
  // holds of children handed over last until a newer version.
  void moves_adopt_view(const strategies::View& view);
  // Asks each member of `view` whose moves this node may have missed (new
  // to it since its last view, or every one when a view came between) which
  // children it handed over, and sends nothing to its copies until it
  // answers (HoldQuery{every}; HubState::unheard).
  void ask_handed_over(const strategies::View& view);
  // Marks `member` unheard in HubState once its node number is known (its
  // Hello may come after the view); unmark_unheard clears the mark.
  void mark_unheard(const strategies::Member& member);
  void unmark_unheard(const strategies::Member& member);
  // Holds what Hub::send sends child `id` until a version newer than
  // `move` (or a MoveEnd) ends the hold; its old copy is on `from`.
  void hold(const std::string& id, uint64_t move, const std::string& from);
  // The old copy's node: whether each copy handed its child over, once
  // this node has adopted the query's view (until then it waits).
  void on_hold_query(const HoldQuery& query);
  void answer_hold_query(const HoldQuery& query);
  void on_hold_answer(const HoldAnswer& answer);
  void on_move_end(const MoveEnd& end);
  void on_target_due(const TargetDue& due);
  // Sends the MoveBegin and MoveEnd of this callback: true if there were any.
  bool send_moves();

  // ---- Partition mode and fences (hub_server_partitions.cpp; docs/hub.md,
  // "Partitions: quorum")
  struct FenceDue {
    std::string node;
    uint64_t generation;
  };
  // Takes the members kept now into the quorum keeper.
  void count_quorum(const std::set<std::string>& kept);
  void quorum_turned(QuorumKeeper::Turn turn);
  // Before view `next` is adopted: a view that loses members without
  // quorum enters partition mode; one with quorum may end it.
  void quorum_view(const strategies::View& next);
  // Leaves partition mode if this node has quorum in what it reaches and
  // in a view of `view_size`; with `renew_view` it asks for a new view.
  void try_leave_partition_mode(size_t view_size, bool renew_view);
  // This node's children stop (within partition_stop_timeout), and starts,
  // stops and lookups fail until it has quorum again.
  void enter_partition_mode();
  // The next view's round reconciles: it starts what this side should run.
  void leave_partition_mode(bool renew_view);
  // Before a view is adopted: each member it drops that did not leave on
  // purpose is fenced for fence_margin; its members are not.
  void fence_lost(const strategies::View& next);
  void start_fence(const std::string& node);
  void on_fence_due(const FenceDue& due);

  // ---- A durable hub's store (hub_server_store.cpp; docs/hub.md, "Durable
  // children"). Changes gather in the store's batch and are written before
  // anything of the turn is sent (flush, and on_run's answer).
  // At init: the registry takes what the store held, without pids (so the
  // first view's reconcile starts each child), and restored_states_ the
  // saved states.
  void restore();
  // The store follows the registry: a record naming a copy here is kept, a
  // tombstone of a child kept here too, and one kept here whose record names
  // copies elsewhere only is erased.
  void keep(const RecordPtr& record);
  // A copy starts here: its record is kept (with the state it starts from).
  void keep_started(const RecordPtr& record, const std::string* saved_state);
  // The purge dropped a tombstone: so does the store.
  void forget_tombstone(const RecordPtr& tombstone);
  void write_store();
  // The saved states given back for children that member `member` decides.
  std::vector<SavedState> saved_for(const std::string& member) const;

  // ---- which_children
  struct WhichTimeout {
    uint64_t call;
  };
  struct Which {
    std::shared_ptr<FutureState<std::vector<NodeChildren>>> future;
    std::set<std::string> waiting;  // members not answered yet
    std::vector<NodeChildren> result;
  };
  void which(LocalWhich w);
  WhichChildrenReply local_children(uint64_t call);
  void which_reply(const WhichChildrenReply& reply);
  void which_done(uint64_t call);

  // ---- Leaving
  // A graceful leave: with hot swap (and other members) a drain, in which
  // the deciders move every child off this node with its state, then the
  // leave; else, or for what is left when the drain takes longer than twice
  // migr_base_timeout, the children here stop and the others start them.
  struct DrainDue {};
  void leave(LocalLeave leave);
  // Stops the children still here; leaves once none runs.
  void leave_cold();
  // Leaves if no child runs here any more.
  void leave_if_empty();
  void finish_leave();

  // DeciderPort
  void run_on(const std::string& node, const RecordPtr& record, bool migration_target,
              const std::shared_ptr<const std::string>& saved_state) override;
  void halt_on(const std::string& node, const std::string& id) override;
  void publish(const RecordPtr& record) override;
  bool learn(const RecordPtr& record) override;
  void started(const std::string& caller, uint64_t call, const RecordPtr& record) override;
  void stopped(const std::string& caller, uint64_t call, const RecordPtr& tombstone,
               const std::vector<std::string>& nodes) override;
  void failed(const std::string& caller, uint64_t call, bool start, ChildErrorProto error) override;
  void forward_start(const std::string& member, StartRequest request) override;
  void forward_stop(const std::string& member, StopRequest request) override;
  void send_records(const std::string& member, SegmentRecords records) override;
  void migrated(const std::string& id, const std::string& from, const std::string& to) override;
  void begin_move(const std::string& id, const std::string& from, uint64_t move) override;
  void hand_over(const std::string& from, const std::string& id, uint64_t move, Pid to,
                 const std::string& to_node) override;
  void call_off(const std::string& from, const std::string& id, uint64_t move) override;
  void end_move(const std::string& id) override;
  bool fenced(const std::string& node) override;

  template <class M>
  void send_to(const std::string& member, M&& msg);
  // Sends `msg` to `member`; where that is this node, `handle` takes it at
  // once (this node's own part in a protocol needs no hop).
  template <class M>
  void send_or_handle(const std::string& member, M msg, void (HubServer::*handle)(const M&)) {
    if (member == s_.self.node) {
      (this->*handle)(msg);
    } else {
      send_to(member, std::move(msg));
    }
  }
  // Each part of a message cut by message_parts.h, in order.
  template <class M>
  void send_parts(const std::string& member, std::vector<M> parts) {
    for (M& part : parts) send_to(member, std::move(part));
  }
  void set_from(MemberProto* from) const;

  std::shared_ptr<HubState> state_;
  HubState& s_;
  ViewKeeper keeper_;
  // Who this node keeps of the members it reaches (a non-transitive
  // partition cut into groups); the keeper sees only those.
  Reachability reach_;
  bool report_due_ = false;       // reach_ has a report the members have not had
  bool regroup_pending_ = false;  // a Regroup is on its way to this server
  std::set<std::string> cut_;     // members reached that the keeper does not get
  std::set<std::string> to_cut_;  // what Reachability asks to cut, since cut_generation_
  uint64_t cut_generation_ = 0;
  QuorumKeeper quorum_;
  // Members lost within fence_margin (by the generation of their timer),
  // and those whose fence lifted or that left on purpose.
  std::map<std::string, uint64_t> fences_;
  std::set<std::string> unfenced_;
  uint64_t fence_generation_ = 0;
  Decider decider_;
  GossipRelay gossip_;
  uint64_t gossip_serial_ = 0;     // the last change this node's decider sent
  bool gossip_due_armed_ = false;  // a GossipDue is on its way
  std::optional<LocalSupervisor> supervisor_;
  std::optional<Calls> calls_;

  // Hub members this node reaches, and their incarnations.
  std::map<std::string, strategies::Member> members_;
  // Every node that was a member and did not leave on purpose.
  std::set<std::string> known_;
  // Members of the view whose connection was lost (a Hello from one again
  // renews the view).
  std::set<std::string> lost_;
  // Nodes that came up (or were up at start) and were greeted, whose answer
  // is not in yet: each with a monitor of its hub server by name, whose
  // Down (noproc: the node runs no such hub) settles it as the answer does.
  // Until none is left, the hub is not synced.
  std::map<std::string, Ref> greeted_;
  uint64_t propose_generation_ = 0;
  size_t sync_next_ = 0;  // the view member the next anti-entropy round asks
  QuietSegments quiet_;

  // Deciders waiting for a halt here, by child id.
  std::unordered_map<std::string, std::vector<std::string>> halt_waiters_;
  // Saved states the store gave back, by child id, until a record of the
  // child names a copy (the decider of each gets them in every handoff).
  std::unordered_map<std::string, SavedState> restored_states_;
  // Tombstones applied here, oldest first, for the purge.
  std::deque<std::pair<int64_t, RecordPtr>> tombstones_;

  // This member's answers to its own decider, handed to it when the
  // current message is done (the port must not call back into it).
  std::vector<ChildRunning> local_running_;
  std::vector<ChildHalted> local_halted_;
  std::map<uint64_t, std::vector<RecordPtr>> local_started_;  // by call
  // What this callback sends when it returns.
  std::vector<RecordPtr> delta_;
  std::map<std::pair<std::string, uint64_t>, StartReply> start_replies_;
  std::map<std::pair<std::string, uint64_t>, StopReply> stop_replies_;

  // Hot swaps: the moves the decider began and ended in this callback (one
  // MoveBegin and one MoveEnd per member, sent by flush), the children whose
  // messages this node holds (by the version they move as), the moves of
  // copies here, and answers to this node's decider (after the message).
  std::vector<MoveProto> moves_begun_;
  std::vector<std::string> moves_ended_;
  // A hold: the version the child moves as (0 once the move ended with no
  // copy served, until a record names one), and the node of its old copy.
  struct Hold {
    uint64_t move = 0;
    std::string from;
  };
  std::unordered_map<std::string, Hold> holding_;
  // The members asked HoldQuery{every} in this view that have not answered
  // (the parts of their answers taken so far).
  struct Unheard {
    strategies::Member member;
    PartsReceived parts;
  };
  std::map<std::string, Unheard> unheard_;
  // Children whose copy here handed them over, until a version newer than
  // the move is applied here: a HoldQuery is answered from it, and the copy
  // each went to is claimed in handoffs (claimed()).
  struct Handed {
    uint64_t move = 0;
    LocalSupervisor::Copy to;
  };
  std::unordered_map<std::string, Handed> handed_;
  std::vector<HoldQuery> early_hold_queries_;  // of views this node has not adopted
  std::unordered_map<std::string, Outgoing> outgoing_;
  std::vector<HandedOver> local_handed_;

  std::map<uint64_t, Which> which_;  // which_children calls in flight
  bool reported_ready_ = false;      // kPostRedistribution ran for this view
  bool leaving_ = false;
  bool draining_ = false;  // a graceful leave moves the children off first
  std::shared_ptr<FutureState<Status>> leave_future_;
};

template <class M>
void HubServer::send_to(const std::string& member, M&& msg) {
  (void)s_.node.send(member, s_.server_name, std::forward<M>(msg));
}

}  // namespace plexus::hub::detail

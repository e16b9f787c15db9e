// Calls: this node's side of its start and stop calls.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "decider.h"
#include "hub_state.h"
#include "plexus/hub.pb.h"

namespace plexus::hub::detail {

// Fires a call's timeout.
struct CallTimeout {
  uint64_t call;
};

// Splits each call by the deciders of its children (this node's view),
// collects their answers, applies the started records here before the
// Future is ready (read-your-writes), and times out the deciders that do
// not answer (node_receive_timeout, as ProcessHub). A call with
// OnFailure::kRollback that failed stops what it started before its Future
// is ready. Runs in the hub server's process only.
class Calls {
 public:
  using Apply = std::function<void(const RecordPtr&)>;
  using Reached = std::function<bool(const std::string& node)>;

  // Calls go to the deciders of `decider`'s view; a start for a decider
  // that `reached` says this node does not reach waits for the next view.
  Calls(HubState& state, Context self, const Decider& decider, Apply apply, Reached reached)
      : state_(state),
        self_(self),
        decider_(decider),
        apply_(std::move(apply)),
        reached_(std::move(reached)) {}

  void start(LocalStart call);
  void stop(LocalStop call);
  void start_reply(const StartReply& reply);
  // Records this node's own decider committed for a call made here (no
  // wire form in between).
  void started(uint64_t call, const std::vector<RecordPtr>& records);
  void stop_reply(const StopReply& reply);
  void timeout(uint64_t call);
  // Member `node` is lost: the children of this node's start calls that it
  // was asked to decide and has not answered wait for the next view, marked
  // retry (their decider there answers as the first try would have:
  // started, if the lost decider had started it). Stops still wait for
  // their timeout: a stop the lost decider made may have left no record to
  // tell a retry from a stop of an unknown child.
  void decider_lost(const std::string& node);
  // A view was adopted: the starts that wait for one go to their deciders
  // in it.
  void view_changed();
  // Ends every call with `reason` for what is unanswered (the hub stops).
  void fail_all(const std::string& reason);

  size_t pending() const { return calls_.size(); }

 private:
  struct Pending {
    bool is_start = true;
    std::unordered_map<std::string, int> waiting;          // id -> answers due
    std::unordered_map<std::string, std::string> decider;  // id -> asked member
    // A start's specs: the deciders' answers leave them out.
    std::unordered_map<std::string, std::shared_ptr<const ChildSpec>> specs;
    StartOptions start_options;
    std::shared_ptr<FutureState<StartResult>> start_future;
    std::shared_ptr<FutureState<StopResult>> stop_future;
    StartResult start_result;
    StopResult stop_result;
    TimerRef timer;
    // A rollback's stop: the start call's result, made ready when it ends.
    std::optional<StartResult> rolling_back;
    std::shared_ptr<FutureState<StartResult>> rollback_future;
  };

  // Sends a call's requests to their deciders, with its timeout; in
  // partition mode refuses every child at once ("partitioned").
  template <class Request>
  void launch(uint64_t call, Pending p, std::chrono::milliseconds timeout,
              std::map<std::string, Request> requests);
  // True if `call` waits for an answer about `id` (an answer that comes
  // twice, after a retry, is taken once).
  bool awaits(uint64_t call, const std::string& id) const;
  void answered(uint64_t call, const std::string& id);
  // Answers every child of `call` not answered yet with `reason`, naming the
  // decider asked (or this node), and finishes it.
  void fail_unanswered(uint64_t call, const std::string& reason, bool at_decider);
  void finish(uint64_t call);
  void send(const std::string& member, StartRequest request);
  void send(const std::string& member, StopRequest request);
  Result<Pid> pid_of(const ChildErrorProto& e);
  // The requests for `ids` of start call `call` (an id listed twice goes
  // twice), one per decider of this node's view; records who was asked.
  std::map<std::string, StartRequest> split(uint64_t call, Pending& p,
                                            const std::vector<std::string>& ids, bool retry);

  HubState& state_;
  Context self_;
  const Decider& decider_;
  Apply apply_;
  Reached reached_;
  std::unordered_map<uint64_t, Pending> calls_;
  // Children of start calls whose decider this node does not reach, until
  // the next view.
  struct Parked {
    uint64_t call = 0;
    std::vector<std::string> ids;
    bool retry = false;
  };
  std::vector<Parked> parked_;
};

}  // namespace plexus::hub::detail

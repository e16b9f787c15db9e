// A Connector: this node's side of the monitors on one node.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plexus/server.h"
#include "plexus/zen.pb.h"
#include "state.h"

namespace plexus::zen::detail {

// One per node that has monitored processes (this node too), started on
// first use. It keeps (target, ref) -> subscriber for the fan-out of deaths,
// subscribes to each target once at that node's Proxy however many
// subscribers it has (and unsubscribes when the last one goes), and sends
// its instructions every connector_sweep_interval, connector_chunk_size at
// a time. This node's own Connector instead holds one native monitor per
// monitor of a local target (see local_rows_): nothing crosses a node, so
// nothing needs batching, and a death is never read as noproc.
//
// It learns whether the node runs a zen monitor by pinging its Proxy:
//   compatible    the Proxy answered: instructions go to it;
//   incompatible  no answer within ping_timeout, or the Proxy died: each
//                 target gets one plain remote monitor (ZenMonitor reports
//                 nodedown here instead); pings again after a backoff of
//                 incompatible_backoff, doubling up to the maximum;
//   unavailable   the node is down: every monitor fired with nodedown.
// When the node goes down, or its Proxy dies, every monitor there fires once
// with nodedown. A node that restarted is a new node: the Connector of the old
// incarnation answers every monitor of its pids with nodedown.
class Connector : public Server {
 public:
  Connector(std::shared_ptr<State> state, uint32_t node_index)
      : state_(std::move(state)), node_index_(node_index) {}

  Status init() override;
  void handle_info(Message& msg) override;

 private:
  enum class Op : uint8_t { kSubscribe, kUnsubscribe };
  struct Target {
    std::vector<std::pair<Ref, Pid>> monitors;  // ref -> subscriber
    Ref plain;  // the plain remote monitor, when the node is incompatible
  };

  bool is_local() const { return node_index_ == 0; }
  void monitor(const ConnectorMonitor& m);
  void demonitor(const ConnectorDemonitor& d);
  void sweep();
  void send_instructions();
  void ping();
  void pong(const Pong& pong);
  void ping_timeout(uint64_t ping);
  void node_lost();
  void proxy_died();
  void dead(const Dead& dead);
  void plain_down(const plexus::Down& down);
  void monitor_plainly(Pid target, Target& t);
  // Every monitor fires with `reason`; the table is emptied at once, and the
  // Downs go to the Local kFireChunk (2,000) at a time, a chunk a millisecond (a lost
  // node with a million monitors must not hold the scheduler for long).
  void fire_all(const ExitReason& reason);
  void fire_some();
  void fire(Pid target, const Target& t, const ExitReason& reason, std::vector<Dispatch>* out);
  void enqueue(std::vector<Dispatch>&& downs);
  void set_mode(Compatibility mode);
  void back_off();

  std::shared_ptr<State> state_;
  const uint32_t node_index_;
  std::string node_name_;
  Compatibility mode_ = Compatibility::kUnknown;
  bool gone_ = false;  // this incarnation of the node is gone for good
  Pid proxy_;
  Ref proxy_monitor_;
  bool watching_node_ = false;
  uint64_t ping_ = 0;  // the ping waiting for its answer, 0 if none
  uint64_t pings_ = 0;
  int failed_pings_ = 0;
  int64_t next_ping_ms_ = 0;
  std::unordered_map<Pid, Target> targets_;
  std::unordered_map<Ref, Pid> plain_;  // plain monitor -> target
  // This node's Connector: one native monitor per monitor of a local target,
  // made by ZenMonitor::monitor on the subscriber's thread, so that a death
  // right after monitor() returns still reads as its reason. (One per
  // target, as for other nodes, would be shared by subscribers whose
  // monitors reached the target on either side of its death.)
  struct LocalRow {
    Pid target;
    Ref ref;  // the zen monitor's
    Pid subscriber;
  };
  std::unordered_map<Ref, LocalRow> local_rows_;  // native monitor -> row
  std::unordered_map<Ref, Ref> native_of_;        // zen monitor -> native monitor
  std::deque<std::pair<Op, Pid>> batch_;
  // Tables emptied by fire_all whose Downs are still to be queued.
  std::deque<std::pair<std::unordered_map<Pid, Target>, ExitReason>> doomed_;
};

}  // namespace plexus::zen::detail

// The Proxy: one per node, registered as "plexus.zen.proxy".
#pragma once

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

#include "plexus/server.h"
#include "plexus/zen.pb.h"
#include "state.h"

namespace plexus::zen::detail {

// Watches this node's processes for the Connectors of every node (this one
// too): one native monitor per target, whatever the number of subscribing
// nodes, and a table (target, subscriber). When a target dies its reason is
// truncated once and the death goes to the Batcher of each subscriber. A
// target nobody subscribes to any more is demonitored.
//
// It never throws on what it receives: malformed instructions are logged and
// dropped, and truncation cannot fail, since a Proxy that died would look
// like a nodedown to every subscriber.
class Proxy : public Server {
 public:
  explicit Proxy(std::shared_ptr<State> state) : state_(std::move(state)) {}

  Status init() override;
  void handle_info(Message& msg) override;

 private:
  static constexpr uint32_t kNone = UINT32_MAX;

  // The subscribing nodes of one target: almost always one, kept inline.
  struct Target {
    Ref monitor;
    uint32_t first = kNone;
    std::vector<uint32_t> more;
  };
  // A subscribing node: its Connector and the Batcher for it.
  struct Subscriber {
    Pid connector;
    Pid batcher;
  };

  void answer(const Ping& ping);
  void apply(const Instructions& in);
  void subscribe(Pid target, uint32_t subscriber);
  void unsubscribe(Pid target, uint32_t subscriber);
  void died(const plexus::Down& down);
  void forget(Pid connector);
  uint32_t slot_for(Pid connector);
  // Removes `subscriber` from `t`; true if it was there.
  static bool remove(Target& t, uint32_t subscriber);
  static bool empty(const Target& t) { return t.first == kNone; }
  void drop_if_unwatched(std::unordered_map<uint64_t, Target>::iterator it);

  std::shared_ptr<State> state_;
  std::unordered_map<uint64_t, Target> targets_;  // (index << 32 | serial) -> target
  std::vector<Subscriber> subscribers_;           // by slot; a free slot has no connector
  std::vector<uint32_t> free_slots_;
  std::unordered_map<Pid, uint32_t> slots_;  // connector -> slot
  uint64_t rows_ = 0;                        // (target, subscriber) pairs
};

}  // namespace plexus::zen::detail

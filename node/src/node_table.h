// NodeTable: the node incarnations this node knows, numbered for Pid::node.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "plexus/detail/mutex.h"

namespace plexus::detail {

class Peer;

// One incarnation of a remote node, as a reader sees it.
struct NodeEntry {
  const std::string* name = nullptr;  // its Peer's name (or this node's, for its own past)
  uint64_t creation = 0;
  Peer* peer = nullptr;  // null: an earlier incarnation of this node
};

// A remote incarnation is numbered by a slot and the slot's generation:
// Pid::node = slot | generation << 16 (plexus/pid.h); slot 0 is this node.
// A slot's generation grows each time the slot is reused, so a pid of an
// incarnation that is gone never names the one that took its slot: it names
// nothing, and is answered as a dead process.
//
// Slots are read on every remote send, from any thread, without a lock: each
// is a seqlock of atomics (no entry is ever freed under a reader; names live
// in Peers, which live as long as the node). Interning and retiring take the
// lock.
//
// The table holds 65,535 incarnations (Ref::node has 16 bits). It never
// fills for good:
//   - an incarnation that a newer one of the same name replaced is retired
//     (retire()); its slot is reused after kGrace, oldest first, or sooner
//     when the table is full;
//   - one that was only named in a pid and never connected ("named") is
//     capped at kMaxNamed; past the cap the oldest such entry makes room.
//   - one whose connection went down and that did not come back is kept
//     (pids of it are answered noconnection, and it may reconnect), but
//     when the table is full it makes room after the retired ones, oldest
//     first: a cluster whose nodes come and go under new names keeps
//     working. Its pids then name nothing (noproc).
// A connecting peer (kConnected) is refused only when every slot holds an
// incarnation that is connected.
class NodeTable {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr uint32_t kSlots = 1u << 16;
  // The Pid::node of the incarnation in `slot` at `generation`.
  static constexpr uint32_t number(uint32_t slot, uint16_t generation) {
    return slot | uint32_t{generation} << 16;
  }
  static constexpr uint32_t kMaxNamed = 16384;
  // How long a retired incarnation keeps its slot (and pids of it their
  // name), when nothing needs the room.
  static constexpr std::chrono::minutes kGrace{10};

  NodeTable();
  ~NodeTable();
  NodeTable(const NodeTable&) = delete;
  NodeTable& operator=(const NodeTable&) = delete;

  // This node's name, for the entries of its own earlier incarnations. Set
  // once, before any reader.
  void set_self(const std::string* name) { self_ = name; }

  // The incarnation `node` names (slot and generation), or none: unknown, or
  // gone (its slot was reused).
  std::optional<NodeEntry> get(uint32_t node) const;
  // The incarnation in `slot` now, whatever its generation (a Ref names only
  // the slot) and its full number.
  std::optional<std::pair<uint32_t, NodeEntry>> get_slot(uint32_t slot) const;

  enum class Use {
    kConnected,  // a peer that proved the cookie: its incarnation is confirmed
    kNamed,      // only named in a pid (of a third node, or of this node's past)
  };
  // The number of (name, creation), made if new; 0 if the table has no room,
  // with *why saying so. `peer` is the Peer of `name` (null: this node's
  // own earlier incarnation, retired at once).
  uint32_t intern(const std::string& name, uint64_t creation, Peer* peer, Use use,
                  std::string* why = nullptr) PLEXUS_EXCLUDES(mu_);
  // Incarnation `creation` of `name` is gone (a newer one connected): its
  // slot may be reused, once kGrace has passed or room is needed.
  void retire(const std::string& name, uint64_t creation) PLEXUS_EXCLUDES(mu_);
  // The connection to incarnation `creation` of `name` went down: its slot
  // may be taken when the table is full. Connecting again (intern with
  // kConnected) keeps it. Returns its number (Pid::node), or 0 if it was
  // not a confirmed incarnation.
  uint32_t went_down(const std::string& name, uint64_t creation) PLEXUS_EXCLUDES(mu_);

  // What the table holds (for tests and metrics).
  struct Counts {
    size_t live = 0;     // confirmed or named, not retired
    size_t named = 0;    // of which only named
    size_t down = 0;     // of which confirmed once, not connected now
    size_t retired = 0;  // waiting to be reused
  };
  Counts counts() const PLEXUS_EXCLUDES(mu_);

 private:
  static constexpr uint32_t kChunkSize = 256;
  struct Slot {
    std::atomic<uint32_t> seq{0};  // generation << 1 | 1 while being written
    std::atomic<uint64_t> creation{0};
    std::atomic<Peer*> peer{nullptr};
  };
  using Chunk = std::array<Slot, kChunkSize>;
  enum class State : uint8_t { kFree, kNamed, kConfirmed, kDown, kRetired };
  struct Meta {
    State state = State::kFree;
    uint16_t generation = 0;
    std::pair<std::string, uint64_t> id;
    Clock::time_point retired_at;
  };

  // Slots by when they entered a state, oldest first. An entry is stale
  // once its slot has another generation or has left the state; it is
  // skipped when met.
  struct Since {
    uint32_t slot;
    uint16_t generation;
  };

  Slot* slot(uint32_t index) const;
  Slot& make_slot(uint32_t index) PLEXUS_REQUIRES(mu_);
  // A slot for a new incarnation; 0 if none can be had.
  uint32_t take_slot(Use use, std::string* why) PLEXUS_REQUIRES(mu_);
  void free_slot(uint32_t index) PLEXUS_REQUIRES(mu_);
  // Frees the oldest slot in `order` still in `state`; false if there is
  // none.
  bool evict_oldest(std::deque<Since>& order, State state) PLEXUS_REQUIRES(mu_);
  bool current(const Since& e, State state) const PLEXUS_REQUIRES(mu_) {
    return meta_[e.slot].generation == e.generation && meta_[e.slot].state == state;
  }
  // Moves a live slot to the retired ones.
  void retire_slot(uint32_t index) PLEXUS_REQUIRES(mu_);

  const std::string* self_ = nullptr;
  std::array<std::atomic<Chunk*>, kSlots / kChunkSize> chunks_{};

  mutable Mutex mu_;
  std::map<std::pair<std::string, uint64_t>, uint32_t> by_id_ PLEXUS_GUARDED_BY(mu_);  // -> slot
  std::vector<Meta> meta_ PLEXUS_GUARDED_BY(mu_);   // by slot, grown as slots are first used
  uint32_t next_fresh_ PLEXUS_GUARDED_BY(mu_) = 1;  // slots never used: [next_fresh_, kSlots)
  std::deque<Since> retired_ PLEXUS_GUARDED_BY(mu_);
  std::deque<Since> named_ PLEXUS_GUARDED_BY(mu_);
  std::deque<Since> down_ PLEXUS_GUARDED_BY(mu_);
  std::deque<uint32_t> reusable_ PLEXUS_GUARDED_BY(mu_);  // freed, oldest first
  size_t named_count_ PLEXUS_GUARDED_BY(mu_) = 0;
  size_t down_count_ PLEXUS_GUARDED_BY(mu_) = 0;
  size_t live_count_ PLEXUS_GUARDED_BY(mu_) = 0;
  size_t retired_count_ PLEXUS_GUARDED_BY(mu_) = 0;
};

}  // namespace plexus::detail

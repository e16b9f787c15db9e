// Registry: a node's copy of every child of a hub, by id, pid, node, tag and
// segment, read from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "plexus/detail/mutex.h"
#include "plexus/hub/child_record.h"
#include "plexus/pid.h"
#include "plexus/status.h"
#include "plexus/strategies/segments.h"

namespace plexus::hub::detail {

class MoveBuffer;

using RecordPtr = std::shared_ptr<const ChildRecord>;

// What a segment's live records add up to: equal digests on two nodes mean
// (but for a 2^-64 chance) equal live records. Tombstones are left out, as
// each node drops them on its own clock. A sum, not an XOR, so two equal records
// do not cancel; updated in O(1) by every apply.
struct SegmentDigest {
  uint64_t count = 0;
  uint64_t sum = 0;

  friend bool operator==(const SegmentDigest&, const SegmentDigest&) = default;
};

// What apply() did with a record.
enum class Applied {
  kNew,       // no record of its id was there
  kReplaced,  // it was newer (ChildRecord::newer_than) than the one there
  kStale,     // the one there is the same version or newer: nothing changed
};

// The records live in shards by segment, each a Boost.MultiIndex container
// behind a reader-writer lock. Records are immutable and shared: a reader
// takes its shard's lock shared for as long as it takes to copy one pointer
// (or a few, for a query), and a writer builds the new record before taking
// the lock exclusively to swap it in. So a lookup never waits for more than
// one swap in its own shard, and never for a write in another shard.
//
// Threads: apply() and erase_tombstone() are called by the hub's own process
// (one writer at a time per registry; concurrent writers are safe too, as
// each holds its shard's lock). Every other member is for any thread.
class Registry {
 public:
  explicit Registry(strategies::Segments segments);
  ~Registry();
  Registry(const Registry&) = delete;
  Registry& operator=(const Registry&) = delete;

  const strategies::Segments& segments() const { return segments_; }

  // The record of `id`, live or tombstone, or null.
  RecordPtr find(std::string_view id) const;
  // The record of `id` if it is live (not a tombstone), or null.
  RecordPtr find_live(std::string_view id) const;
  // The first pid of live child `id`, or the null pid.
  Pid first_pid(std::string_view id) const;
  // The live record one of whose pids is `pid`, or null.
  RecordPtr find_by_pid(Pid pid) const;
  // The live records whose spec has tag `tag`.
  std::vector<RecordPtr> with_tag(std::string_view tag) const;
  // The live records with a pid on node `node` (Pid::node; 0 is this node).
  std::vector<RecordPtr> on_node(uint32_t node) const;
  // How many live records have their first pid on each node (Pid::node; 0
  // is this node). Walks every record: for a dashboard, not a hot path.
  std::unordered_map<uint32_t, size_t> count_by_first_node() const;
  // The records of each of `segments`, tombstones too, in the order asked
  // (for handoff rounds and anti-entropy); each shard is scanned once, as a
  // round after a split swaps nearly every segment.
  std::vector<std::vector<RecordPtr>> in_segments(const std::vector<uint32_t>& segments) const;
  // Every live record.
  std::vector<RecordPtr> live() const;

  // ---- Hot swaps: children whose state is being handed over (docs/hub.md)
  // What route() calls, with the shard of the id held shared: the live
  // record (or null) and, while the child moves, its buffer (or null).
  using RouteFn = Status (*)(void* context, const ChildRecord* record, MoveBuffer* moving);
  // Calls `fn` for `id` with its shard held shared, so that a sender that
  // reads the record and sends to it in `fn` is done before a set_moving()
  // of the id returns: that is the fence after which senders hold their
  // messages, and what a sender sent before it is ahead of the fence.
  Status route(std::string_view id, RouteFn fn, void* context) const;
  // Marks child `id` moving (the shard held exclusively): route() gives
  // `buffer` from now on.
  void set_moving(std::string_view id, std::shared_ptr<MoveBuffer> buffer);
  // The buffer of `id` if it moves, or null.
  std::shared_ptr<MoveBuffer> moving(std::string_view id) const;
  // Ends the mark (after the buffer is released).
  void clear_moving(std::string_view id);
  // Every id marked moving.
  std::vector<std::string> moving_ids() const;

  SegmentDigest digest(uint32_t segment) const;
  size_t live_count() const { return live_.load(std::memory_order_relaxed); }
  size_t tombstone_count() const { return tombstones_.load(std::memory_order_relaxed); }

  // Keeps `record` if it is newer than the record of its id
  // (or there is none). Its segment must be segments().of(record->id).
  Applied apply(RecordPtr record);
  // Drops the tombstone of `id` if it is still the one of `epoch` (a newer
  // record of the id stays): true if dropped.
  bool erase_tombstone(std::string_view id, uint64_t epoch);

 private:
  struct Shard;
  Shard& shard_of(uint32_t segment) const;
  // The shard of an id whose hash is `hash` (Segments::hash).
  Shard& shard_of_hash(uint64_t hash) const { return shard_of(segments_.of_hash(hash)); }

  strategies::Segments segments_;
  uint32_t shard_count_;  // segment s is in shard s % shard_count_
  std::unique_ptr<Shard[]> shards_;
  std::atomic<size_t> live_{0};
  std::atomic<size_t> tombstones_{0};
};

}  // namespace plexus::hub::detail

#include "registry.h"

#include <algorithm>
#include <boost/multi_index/global_fun.hpp>
#include <boost/multi_index/hashed_index.hpp>
#include <boost/multi_index/mem_fun.hpp>
#include <boost/multi_index/member.hpp>
#include <boost/multi_index/tag.hpp>
#include <boost/multi_index_container.hpp>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <unordered_map>

#include "move_buffer.h"
#include "plexus/strategies/stable_hash.h"

namespace plexus::hub::detail {

namespace {

namespace bmi = boost::multi_index;

// At most this many shards (fewer if the hub has fewer segments).
constexpr uint32_t kMaxShards = 64;

struct ById {};
struct ByTag {};
struct ByPid {};
struct ByNode {};

// A node number no pid has: the key of records without pids (tombstones).
constexpr uint32_t kNoNode = UINT32_MAX;

std::string_view id_of(const RecordPtr& r) { return r->id; }
Pid primary_of(const RecordPtr& r) { return r->pids.front(); }
uint32_t primary_node_of(const RecordPtr& r) {
  return r->pids.empty() ? kNoNode : r->pids.front().node;
}

struct ViewHash {
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

// The id index hashes as segments do, so that a lookup hashes its id once,
// for both its shard and its bucket.
struct IdHash {
  size_t operator()(std::string_view id) const { return strategies::Segments::hash(id); }
};
// An id with that hash, to find by (Boost.MultiIndex's compatible keys).
struct HashedId {
  std::string_view id;
  uint64_t hash;
};
struct HashOfHashedId {
  size_t operator()(const HashedId& k) const { return k.hash; }
};
struct HashedIdEquals {
  bool operator()(const HashedId& k, std::string_view id) const { return k.id == id; }
};

// Every index is hashed (a hashed node costs less than an ordered one, and
// no query needs an order), and every child pays for each: the tags and the
// replicas beyond the first have containers of their own, which children
// without them do not pay for. A segment's records are found by a scan of
// its shard (anti-entropy only, a 64th of the registry).
using Records = bmi::multi_index_container<
    RecordPtr,
    bmi::indexed_by<
        bmi::hashed_unique<bmi::tag<ById>,
                           bmi::global_fun<const RecordPtr&, std::string_view, &id_of>, IdHash>,
        bmi::hashed_non_unique<bmi::tag<ByPid>, bmi::global_fun<const RecordPtr&, Pid, &primary_of>,
                               std::hash<Pid>>,
        bmi::hashed_non_unique<bmi::tag<ByNode>,
                               bmi::global_fun<const RecordPtr&, uint32_t, &primary_node_of>>>>;

// The pids after the first (replicas), one row each; `id` points into the
// record, which the shard holds for as long as the row exists. Empty while
// every child runs once.
struct PidRow {
  Pid pid;
  std::string_view id;
  uint32_t node() const { return pid.node; }
};

// One row per tagged record; `tag` and `id` point into the record.
struct TagRow {
  std::string_view tag;
  std::string_view id;
};

using TagRows = bmi::multi_index_container<
    TagRow,
    bmi::indexed_by<
        bmi::hashed_unique<bmi::tag<ById>, bmi::member<TagRow, std::string_view, &TagRow::id>,
                           ViewHash>,
        bmi::hashed_non_unique<bmi::tag<ByTag>, bmi::member<TagRow, std::string_view, &TagRow::tag>,
                               ViewHash>>>;

using PidRows = bmi::multi_index_container<
    PidRow,
    bmi::indexed_by<
        bmi::hashed_unique<bmi::tag<ByPid>, bmi::member<PidRow, Pid, &PidRow::pid>, std::hash<Pid>>,
        bmi::hashed_non_unique<bmi::tag<ByNode>,
                               bmi::const_mem_fun<PidRow, uint32_t, &PidRow::node>>>>;

// A record's share of its segment's digest: its id, epoch and stamp say
// which version it is, on every node alike (pids are numbered differently on
// each node, so they are left out). Tombstones count for nothing: each node
// drops them on its own clock, and a digest must not differ for that.
uint64_t digest_term(const ChildRecord& r) {
  return r.tombstone ? 0 : strategies::stable_hash(r.id, r.epoch ^ (uint64_t{r.stamp} << 1));
}
uint64_t digest_count(const ChildRecord& r) { return r.tombstone ? 0 : 1; }

}  // namespace

struct Registry::Shard {
  mutable plexus::detail::SharedMutex mu;
  Records records PLEXUS_GUARDED_BY(mu);
  PidRows replicas PLEXUS_GUARDED_BY(mu);  // pids after the first
  TagRows tags PLEXUS_GUARDED_BY(mu);
  // The digests of this shard's segments: segment s at s / shard count.
  std::vector<SegmentDigest> digests PLEXUS_GUARDED_BY(mu);
  // The children of this shard being handed over (empty nearly always).
  std::unordered_map<std::string, std::shared_ptr<MoveBuffer>> moving PLEXUS_GUARDED_BY(mu);

  // The rows that point into `r`: its replicas beyond the first, its tag.
  void add_rows(const ChildRecord& r) PLEXUS_REQUIRES(mu) {
    for (size_t i = 1; i < r.pids.size(); ++i) replicas.insert(PidRow{r.pids[i], r.id});
    if (std::string_view tag = r.tag(); !tag.empty() && !r.tombstone)
      tags.insert(TagRow{tag, r.id});
  }
  void remove_rows(const ChildRecord& r) PLEXUS_REQUIRES(mu) {
    auto& by_pid = replicas.get<ByPid>();
    for (size_t i = 1; i < r.pids.size(); ++i) {
      auto it = by_pid.find(r.pids[i]);
      if (it != by_pid.end() && it->id.data() == r.id.data()) by_pid.erase(it);
    }
    tags.get<ById>().erase(std::string_view(r.id));
  }
  // The record of `key`, held by this shard (so valid while `mu` is), or null.
  const RecordPtr* lookup(const HashedId& key) const PLEXUS_REQUIRES_SHARED(mu) {
    const auto& by_id = records.get<ById>();
    auto it = by_id.find(key, HashOfHashedId(), HashedIdEquals());
    return it == by_id.end() ? nullptr : &*it;
  }
  RecordPtr find(std::string_view id) const PLEXUS_REQUIRES_SHARED(mu) {
    const RecordPtr* r = lookup(HashedId{id, strategies::Segments::hash(id)});
    return r ? *r : nullptr;
  }
};

Registry::Registry(strategies::Segments segments)
    : segments_(segments),
      shard_count_(std::min(kMaxShards, segments.count())),
      shards_(new Shard[shard_count_]) {
  for (uint32_t i = 0; i < shard_count_; ++i) {
    plexus::detail::WriterLock lock(shards_[i].mu);
    shards_[i].digests.resize(segments_.count() / shard_count_);
  }
}

Registry::~Registry() = default;

Registry::Shard& Registry::shard_of(uint32_t segment) const {
  return shards_[segment % shard_count_];
}

RecordPtr Registry::find(std::string_view id) const {
  HashedId key{id, strategies::Segments::hash(id)};
  Shard& s = shard_of_hash(key.hash);
  plexus::detail::ReaderLock lock(s.mu);
  const RecordPtr* r = s.lookup(key);
  return r ? *r : nullptr;
}

Status Registry::route(std::string_view id, RouteFn fn, void* context) const {
  HashedId key{id, strategies::Segments::hash(id)};
  Shard& s = shard_of_hash(key.hash);
  plexus::detail::ReaderLock lock(s.mu);
  const RecordPtr* r = s.lookup(key);
  const ChildRecord* live = r && !(*r)->tombstone ? r->get() : nullptr;
  MoveBuffer* buffer = nullptr;
  if (!s.moving.empty()) [[unlikely]] {
    if (auto it = s.moving.find(std::string(id)); it != s.moving.end()) buffer = it->second.get();
  }
  return fn(context, live, buffer);
}

void Registry::set_moving(std::string_view id, std::shared_ptr<MoveBuffer> buffer) {
  Shard& s = shard_of(segments_.of(id));
  plexus::detail::WriterLock lock(s.mu);
  s.moving[std::string(id)] = std::move(buffer);
}

std::shared_ptr<MoveBuffer> Registry::moving(std::string_view id) const {
  Shard& s = shard_of(segments_.of(id));
  plexus::detail::ReaderLock lock(s.mu);
  if (s.moving.empty()) return nullptr;
  auto it = s.moving.find(std::string(id));
  return it == s.moving.end() ? nullptr : it->second;
}

void Registry::clear_moving(std::string_view id) {
  Shard& s = shard_of(segments_.of(id));
  plexus::detail::WriterLock lock(s.mu);
  s.moving.erase(std::string(id));
}

std::vector<std::string> Registry::moving_ids() const {
  std::vector<std::string> out;
  for (uint32_t i = 0; i < shard_count_; ++i) {
    plexus::detail::ReaderLock lock(shards_[i].mu);
    for (const auto& [id, buffer] : shards_[i].moving) out.push_back(id);
  }
  return out;
}

RecordPtr Registry::find_live(std::string_view id) const {
  RecordPtr r = find(id);
  return r && !r->tombstone ? r : nullptr;
}

Pid Registry::first_pid(std::string_view id) const {
  HashedId key{id, strategies::Segments::hash(id)};
  Shard& s = shard_of_hash(key.hash);
  plexus::detail::ReaderLock lock(s.mu);
  const RecordPtr* r = s.lookup(key);
  return r && !(*r)->tombstone ? (*r)->pids.front() : Pid{};
}

RecordPtr Registry::find_by_pid(Pid pid) const {
  if (!pid) return nullptr;
  for (uint32_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    plexus::detail::ReaderLock lock(s.mu);
    const auto& primaries = s.records.get<ByPid>();
    auto it = primaries.find(pid);
    if (it != primaries.end() && !(*it)->tombstone) return *it;
    const auto& rows = s.replicas.get<ByPid>();
    auto row = rows.find(pid);
    if (row != rows.end()) return s.find(row->id);
  }
  return nullptr;
}

std::vector<RecordPtr> Registry::with_tag(std::string_view tag) const {
  std::vector<RecordPtr> out;
  for (uint32_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    plexus::detail::ReaderLock lock(s.mu);
    auto [begin, end] = s.tags.get<ByTag>().equal_range(tag);
    for (auto it = begin; it != end; ++it) {
      if (RecordPtr r = s.find(it->id)) out.push_back(std::move(r));
    }
  }
  return out;
}

std::unordered_map<uint32_t, size_t> Registry::count_by_first_node() const {
  std::unordered_map<uint32_t, size_t> counts;
  for (uint32_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    plexus::detail::ReaderLock lock(s.mu);
    for (const RecordPtr& r : s.records.get<ByNode>()) {
      if (!r->tombstone) ++counts[primary_node_of(r)];
    }
  }
  return counts;
}

std::vector<RecordPtr> Registry::on_node(uint32_t node) const {
  std::vector<RecordPtr> out;
  for (uint32_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    plexus::detail::ReaderLock lock(s.mu);
    auto [begin, end] = s.records.get<ByNode>().equal_range(node);
    size_t primaries = out.size();
    out.insert(out.end(), begin, end);
    auto [rbegin, rend] = s.replicas.get<ByNode>().equal_range(node);
    for (auto it = rbegin; it != rend; ++it) {
      RecordPtr r = s.find(it->id);
      // A record with two pids on one node (two incarnations) is listed once.
      if (r && std::find(out.begin() + static_cast<std::ptrdiff_t>(primaries), out.end(), r) ==
                   out.end()) {
        out.push_back(std::move(r));
      }
    }
  }
  return out;
}

std::vector<std::vector<RecordPtr>> Registry::in_segments(
    const std::vector<uint32_t>& segments) const {
  std::vector<std::vector<RecordPtr>> out(segments.size());
  // Where each asked segment's records go, and the shards to scan.
  std::unordered_map<uint32_t, size_t> slot;
  std::vector<bool> scan(shard_count_, false);
  for (size_t i = 0; i < segments.size(); ++i) {
    if (segments[i] >= segments_.count() || !slot.emplace(segments[i], i).second) continue;
    scan[segments[i] % shard_count_] = true;
  }
  for (uint32_t k = 0; k < shard_count_; ++k) {
    if (!scan[k]) continue;
    Shard& s = shards_[k];
    plexus::detail::ReaderLock lock(s.mu);
    for (const RecordPtr& r : s.records) {
      if (auto it = slot.find(r->segment); it != slot.end()) out[it->second].push_back(r);
    }
  }
  return out;
}

std::vector<RecordPtr> Registry::live() const {
  std::vector<RecordPtr> out;
  out.reserve(live_count());
  for (uint32_t i = 0; i < shard_count_; ++i) {
    Shard& s = shards_[i];
    plexus::detail::ReaderLock lock(s.mu);
    for (const RecordPtr& r : s.records) {
      if (!r->tombstone) out.push_back(r);
    }
  }
  return out;
}

SegmentDigest Registry::digest(uint32_t segment) const {
  Shard& s = shard_of(segment);
  plexus::detail::ReaderLock lock(s.mu);
  return s.digests.at(segment / shard_count_);
}

Applied Registry::apply(RecordPtr record) {
  assert(record->segment == segments_.of(record->id) && "a record's segment is its id's");
  Shard& s = shard_of(record->segment);
  plexus::detail::WriterLock lock(s.mu);
  SegmentDigest& digest = s.digests.at(record->segment / shard_count_);
  auto& by_id = s.records.get<ById>();
  auto it = by_id.find(std::string_view(record->id));
  if (it == by_id.end()) {
    digest.count += digest_count(*record);
    digest.sum += digest_term(*record);
    (record->tombstone ? tombstones_ : live_).fetch_add(1, std::memory_order_relaxed);
    s.add_rows(*record);
    by_id.insert(std::move(record));
    return Applied::kNew;
  }
  const ChildRecord& old = **it;
  if (!record->newer_than(old)) return Applied::kStale;
  digest.count += digest_count(*record) - digest_count(old);
  digest.sum += digest_term(*record) - digest_term(old);
  if (old.tombstone != record->tombstone) {
    (old.tombstone ? tombstones_ : live_).fetch_sub(1, std::memory_order_relaxed);
    (record->tombstone ? tombstones_ : live_).fetch_add(1, std::memory_order_relaxed);
  }
  s.remove_rows(old);  // before the old record (whose id they point into) goes
  s.add_rows(*record);
  by_id.replace(it, std::move(record));
  return Applied::kReplaced;
}

bool Registry::erase_tombstone(std::string_view id, uint64_t epoch) {
  Shard& s = shard_of(segments_.of(id));
  plexus::detail::WriterLock lock(s.mu);
  auto& by_id = s.records.get<ById>();
  auto it = by_id.find(id);
  if (it == by_id.end() || !(*it)->tombstone || (*it)->epoch != epoch) return false;
  tombstones_.fetch_sub(1, std::memory_order_relaxed);
  s.remove_rows(**it);
  by_id.erase(it);
  return true;
}

}  // namespace plexus::hub::detail

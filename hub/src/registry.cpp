#include "registry.h"

#include <algorithm>
#include <boost/multi_index/global_fun.hpp>
#include <boost/multi_index/hashed_index.hpp>
#include <boost/multi_index/mem_fun.hpp>
#include <boost/multi_index/member.hpp>
#include <boost/multi_index/ordered_index.hpp>
#include <boost/multi_index/tag.hpp>
#include <boost/multi_index_container.hpp>
#include <cassert>
#include <functional>

#include "plexus/strategies/stable_hash.h"

namespace plexus::hub::detail {

namespace {

namespace bmi = boost::multi_index;

// At most this many shards (fewer if the hub has fewer segments).
constexpr uint32_t kMaxShards = 64;

struct ById {};
struct ByTag {};
struct BySegment {};
struct ByPid {};
struct ByNode {};

std::string_view id_of(const RecordPtr& r) { return r->id; }
std::string_view tag_of(const RecordPtr& r) { return r->tag(); }
uint32_t segment_of(const RecordPtr& r) { return r->segment; }

struct ViewHash {
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
};

using Records = bmi::multi_index_container<
    RecordPtr,
    bmi::indexed_by<
        bmi::hashed_unique<bmi::tag<ById>,
                           bmi::global_fun<const RecordPtr&, std::string_view, &id_of>, ViewHash>,
        bmi::hashed_non_unique<bmi::tag<ByTag>,
                               bmi::global_fun<const RecordPtr&, std::string_view, &tag_of>,
                               ViewHash>,
        bmi::ordered_non_unique<bmi::tag<BySegment>,
                                bmi::global_fun<const RecordPtr&, uint32_t, &segment_of>>>>;

// One row per pid of a live record; `id` points into the record, which the
// shard holds for as long as the row exists.
struct PidRow {
  Pid pid;
  std::string_view id;
  uint32_t node() const { return pid.node; }
};

using PidRows = bmi::multi_index_container<
    PidRow,
    bmi::indexed_by<
        bmi::hashed_unique<bmi::tag<ByPid>, bmi::member<PidRow, Pid, &PidRow::pid>, std::hash<Pid>>,
        bmi::hashed_non_unique<bmi::tag<ByNode>,
                               bmi::const_mem_fun<PidRow, uint32_t, &PidRow::node>>>>;

// A record's share of its segment's digest: its id and epoch say which
// version it is (epochs are unique per id), on every node alike (pids are
// numbered differently on each node, so they are left out).
uint64_t digest_term(const ChildRecord& r) {
  return strategies::stable_hash(r.id, r.epoch * 2 + (r.tombstone ? 1 : 0));
}

}  // namespace

struct Registry::Shard {
  mutable plexus::detail::SharedMutex mu;
  Records records PLEXUS_GUARDED_BY(mu);
  PidRows pids PLEXUS_GUARDED_BY(mu);
  // The digests of this shard's segments: segment s at s / shard count.
  std::vector<SegmentDigest> digests PLEXUS_GUARDED_BY(mu);

  void add_pids(const ChildRecord& r) PLEXUS_REQUIRES(mu) {
    if (r.tombstone) return;
    for (Pid pid : r.pids) pids.insert(PidRow{pid, r.id});
  }
  void remove_pids(const ChildRecord& r) PLEXUS_REQUIRES(mu) {
    auto& by_pid = pids.get<ByPid>();
    for (Pid pid : r.pids) {
      auto it = by_pid.find(pid);
      if (it != by_pid.end() && it->id.data() == r.id.data()) by_pid.erase(it);
    }
  }
  RecordPtr find(std::string_view id) const PLEXUS_REQUIRES_SHARED(mu) {
    const auto& by_id = records.get<ById>();
    auto it = by_id.find(id);
    return it == by_id.end() ? nullptr : *it;
  }
};

Registry::Registry(strategies::Segments segments)
    : segments_(segments), shards_(new Shard[std::min(kMaxShards, segments.count())]) {
  uint32_t shards = std::min(kMaxShards, segments_.count());
  for (uint32_t i = 0; i < shards; ++i) {
    plexus::detail::WriterLock lock(shards_[i].mu);
    shards_[i].digests.resize(segments_.count() / shards);
  }
}

Registry::~Registry() = default;

Registry::Shard& Registry::shard_of(uint32_t segment) const {
  return shards_[segment % std::min(kMaxShards, segments_.count())];
}

RecordPtr Registry::find(std::string_view id) const {
  Shard& s = shard_of(segments_.of(id));
  plexus::detail::ReaderLock lock(s.mu);
  return s.find(id);
}

RecordPtr Registry::find_live(std::string_view id) const {
  RecordPtr r = find(id);
  return r && !r->tombstone ? r : nullptr;
}

Pid Registry::first_pid(std::string_view id) const {
  Shard& s = shard_of(segments_.of(id));
  plexus::detail::ReaderLock lock(s.mu);
  const auto& by_id = s.records.get<ById>();
  auto it = by_id.find(id);
  if (it == by_id.end() || (*it)->tombstone || (*it)->pids.empty()) return Pid{};
  return (*it)->pids.front();
}

RecordPtr Registry::find_by_pid(Pid pid) const {
  uint32_t shards = std::min(kMaxShards, segments_.count());
  for (uint32_t i = 0; i < shards; ++i) {
    Shard& s = shards_[i];
    plexus::detail::ReaderLock lock(s.mu);
    const auto& by_pid = s.pids.get<ByPid>();
    auto row = by_pid.find(pid);
    if (row != by_pid.end()) return s.find(row->id);
  }
  return nullptr;
}

std::vector<RecordPtr> Registry::with_tag(std::string_view tag) const {
  std::vector<RecordPtr> out;
  uint32_t shards = std::min(kMaxShards, segments_.count());
  for (uint32_t i = 0; i < shards; ++i) {
    Shard& s = shards_[i];
    plexus::detail::ReaderLock lock(s.mu);
    auto [begin, end] = s.records.get<ByTag>().equal_range(tag);
    for (auto it = begin; it != end; ++it) {
      if (!(*it)->tombstone) out.push_back(*it);
    }
  }
  return out;
}

std::vector<RecordPtr> Registry::on_node(uint32_t node) const {
  std::vector<RecordPtr> out;
  uint32_t shards = std::min(kMaxShards, segments_.count());
  for (uint32_t i = 0; i < shards; ++i) {
    Shard& s = shards_[i];
    plexus::detail::ReaderLock lock(s.mu);
    auto [begin, end] = s.pids.get<ByNode>().equal_range(node);
    for (auto it = begin; it != end; ++it) {
      RecordPtr r = s.find(it->id);
      // A record with two pids on one node (two incarnations) is listed once.
      if (r && std::find(out.begin(), out.end(), r) == out.end()) out.push_back(std::move(r));
    }
  }
  return out;
}

std::vector<RecordPtr> Registry::in_segment(uint32_t segment) const {
  std::vector<RecordPtr> out;
  Shard& s = shard_of(segment);
  plexus::detail::ReaderLock lock(s.mu);
  auto [begin, end] = s.records.get<BySegment>().equal_range(segment);
  out.assign(begin, end);
  return out;
}

std::vector<RecordPtr> Registry::live() const {
  std::vector<RecordPtr> out;
  out.reserve(live_count());
  uint32_t shards = std::min(kMaxShards, segments_.count());
  for (uint32_t i = 0; i < shards; ++i) {
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
  return s.digests.at(segment / std::min(kMaxShards, segments_.count()));
}

Applied Registry::apply(RecordPtr record) {
  assert(record->segment == segments_.of(record->id) && "a record's segment is its id's");
  Shard& s = shard_of(record->segment);
  plexus::detail::WriterLock lock(s.mu);
  SegmentDigest& digest = s.digests.at(record->segment / std::min(kMaxShards, segments_.count()));
  auto& by_id = s.records.get<ById>();
  auto it = by_id.find(std::string_view(record->id));
  if (it == by_id.end()) {
    ++digest.count;
    digest.sum += digest_term(*record);
    (record->tombstone ? tombstones_ : live_).fetch_add(1, std::memory_order_relaxed);
    s.add_pids(*record);
    by_id.insert(std::move(record));
    return Applied::kNew;
  }
  const ChildRecord& old = **it;
  if (old.epoch >= record->epoch) return Applied::kStale;
  digest.sum += digest_term(*record) - digest_term(old);
  if (old.tombstone != record->tombstone) {
    (old.tombstone ? tombstones_ : live_).fetch_sub(1, std::memory_order_relaxed);
    (record->tombstone ? tombstones_ : live_).fetch_add(1, std::memory_order_relaxed);
  }
  s.remove_pids(old);  // before the old record (whose id they point into) goes
  s.add_pids(*record);
  by_id.replace(it, std::move(record));
  return Applied::kReplaced;
}

bool Registry::erase_tombstone(std::string_view id, uint64_t epoch) {
  Shard& s = shard_of(segments_.of(id));
  plexus::detail::WriterLock lock(s.mu);
  auto& by_id = s.records.get<ById>();
  auto it = by_id.find(id);
  if (it == by_id.end() || !(*it)->tombstone || (*it)->epoch != epoch) return false;
  SegmentDigest& digest = s.digests.at((*it)->segment / std::min(kMaxShards, segments_.count()));
  --digest.count;
  digest.sum -= digest_term(**it);
  tombstones_.fetch_sub(1, std::memory_order_relaxed);
  by_id.erase(it);
  return true;
}

}  // namespace plexus::hub::detail

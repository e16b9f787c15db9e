// Registry: the merge by epoch, tombstones, the indices, the digests,
// readers on other threads while the hub writes, and the fence of a hot swap.
#include "registry.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <random>
#include <thread>
#include <vector>

#include "move_buffer.h"

namespace plexus_test {
namespace {

using plexus::Pid;
using plexus::hub::ChildRecord;
using plexus::hub::ChildSpec;
using plexus::hub::detail::Applied;
using plexus::hub::detail::MoveBuffer;
using plexus::hub::detail::RecordPtr;
using plexus::hub::detail::Registry;
using plexus::hub::detail::SegmentDigest;
using plexus::strategies::Segments;

const Segments kSegments = *Segments::make(256);

std::shared_ptr<const ChildSpec> spec_tagged(const std::string& tag) {
  auto spec = std::make_shared<ChildSpec>();
  spec->type = "counter";
  if (!tag.empty()) spec->metadata["tag"] = tag;
  return spec;
}

// A version of incarnation 1 of `id` (ChildRecord::origin), unless `origin`
// names another.
RecordPtr record(const std::string& id, uint64_t epoch, std::vector<Pid> pids,
                 const std::string& tag = "", uint64_t origin = 1) {
  auto r = std::make_shared<ChildRecord>();
  r->id = id;
  r->segment = kSegments.of(id);
  r->epoch = epoch;
  r->origin = origin;
  r->spec = spec_tagged(tag);
  r->pids = plexus::hub::PidList(pids);
  return r;
}

RecordPtr tombstone(const std::string& id, uint64_t epoch) {
  auto r = std::make_shared<ChildRecord>(*record(id, epoch, {}));
  r->tombstone = true;
  return r;
}

Pid pid(uint32_t node, uint32_t index) { return Pid{node, index, 1}; }

TEST(RegistryTest, TheHigherEpochWinsAndAnEqualOrLowerOneChangesNothing) {
  Registry reg(kSegments);
  EXPECT_EQ(reg.apply(record("a", 5, {pid(0, 1)})), Applied::kNew);
  EXPECT_EQ(reg.apply(record("a", 5, {pid(0, 2)})), Applied::kStale);
  EXPECT_EQ(reg.apply(record("a", 4, {pid(0, 3)})), Applied::kStale);
  EXPECT_EQ(reg.first_pid("a"), pid(0, 1));
  EXPECT_EQ(reg.apply(record("a", 6, {pid(2, 7)})), Applied::kReplaced);
  EXPECT_EQ(reg.first_pid("a"), pid(2, 7));
  EXPECT_EQ(reg.find("a")->epoch, 6u);
  EXPECT_EQ(reg.live_count(), 1u);
  EXPECT_EQ(reg.find("b"), nullptr);
  EXPECT_EQ(reg.first_pid("b"), Pid{});
}

// ProcessHub PR #16: a late or duplicated update of a stopped child must not
// bring it back. Its tombstone has the higher epoch.
TEST(RegistryTest, ATombstoneKeepsALateUpdateFromBringingAChildBack) {
  Registry reg(kSegments);
  reg.apply(record("a", 5, {pid(0, 1)}));
  EXPECT_EQ(reg.apply(tombstone("a", 6)), Applied::kReplaced);
  EXPECT_EQ(reg.find_live("a"), nullptr);
  EXPECT_NE(reg.find("a"), nullptr);
  EXPECT_EQ(reg.first_pid("a"), Pid{});
  EXPECT_EQ(reg.find_by_pid(pid(0, 1)), nullptr) << "a stopped child's pid names nothing";
  EXPECT_EQ(reg.apply(record("a", 5, {pid(0, 1)})), Applied::kStale) << "the late update";
  EXPECT_EQ(reg.live_count(), 0u);
  EXPECT_EQ(reg.tombstone_count(), 1u);
  // A failover of the stopped incarnation, from the other side of a split
  // (a higher epoch, the same incarnation): the stop still wins.
  EXPECT_EQ(reg.apply(record("a", 9, {pid(2, 4)})), Applied::kStale) << "the split's failover";
  EXPECT_EQ(reg.find_live("a"), nullptr);
  // A start after the stop is a new incarnation (its origin is its epoch).
  EXPECT_EQ(reg.apply(record("a", 10, {pid(0, 9)}, "", 10)), Applied::kReplaced);
  EXPECT_EQ(reg.first_pid("a"), pid(0, 9));
  EXPECT_EQ(reg.tombstone_count(), 0u);
}

TEST(RegistryTest, ATombstoneIsErasedOnlyIfItIsStillTheOneOfThatEpoch) {
  Registry reg(kSegments);
  reg.apply(tombstone("a", 6));
  EXPECT_FALSE(reg.erase_tombstone("a", 5));
  EXPECT_TRUE(reg.erase_tombstone("a", 6));
  EXPECT_EQ(reg.find("a"), nullptr);
  reg.apply(tombstone("b", 3));
  reg.apply(record("b", 4, {pid(0, 1)}, "", 4));  // started again
  EXPECT_FALSE(reg.erase_tombstone("b", 3)) << "a newer live record stays";
  EXPECT_NE(reg.find_live("b"), nullptr);
  EXPECT_EQ(reg.tombstone_count(), 0u);
}

TEST(RegistryTest, FindsByPidNodeTagAndSegment) {
  Registry reg(kSegments);
  reg.apply(record("room1", 1, {pid(0, 1)}, "rooms"));
  reg.apply(record("room2", 1, {pid(3, 2), pid(0, 5)}, "rooms"));
  reg.apply(record("user1", 1, {pid(3, 3)}, "users"));
  reg.apply(record("bare", 1, {pid(4, 4)}));
  EXPECT_EQ(reg.find_by_pid(pid(0, 5))->id, "room2");
  EXPECT_EQ(reg.find_by_pid(pid(9, 9)), nullptr);

  auto ids = [](std::vector<RecordPtr> records) {
    std::vector<std::string> out;
    for (const RecordPtr& r : records) out.push_back(r->id);
    std::sort(out.begin(), out.end());
    return out;
  };
  EXPECT_EQ(ids(reg.with_tag("rooms")), (std::vector<std::string>{"room1", "room2"}));
  EXPECT_EQ(ids(reg.with_tag("users")), (std::vector<std::string>{"user1"}));
  EXPECT_TRUE(reg.with_tag("none").empty());
  EXPECT_EQ(ids(reg.on_node(0)), (std::vector<std::string>{"room1", "room2"}));
  EXPECT_EQ(ids(reg.on_node(3)), (std::vector<std::string>{"room2", "user1"}));
  EXPECT_EQ(ids(reg.live()), (std::vector<std::string>{"bare", "room1", "room2", "user1"}));
  // Segments asked together come back in the order asked, each whole.
  uint32_t user1 = kSegments.of("user1"), room1 = kSegments.of("room1");
  std::vector<std::vector<RecordPtr>> in_segs =
      reg.in_segments({user1, room1, kSegments.count() + 3});
  ASSERT_EQ(in_segs.size(), 3u);
  for (const std::string& id : {"bare", "room1", "room2", "user1"}) {
    uint32_t s = kSegments.of(id);
    std::vector<std::string> got = ids(in_segs[s == user1 ? 0 : 1]);
    bool asked = s == user1 || s == room1;
    EXPECT_EQ(std::find(got.begin(), got.end(), id) != got.end(), asked) << id;
  }
  EXPECT_TRUE(in_segs[2].empty()) << "no such segment";

  // A new version moves the indices with it.
  reg.apply(record("room2", 2, {pid(5, 6)}, "lobby"));
  EXPECT_EQ(reg.find_by_pid(pid(3, 2)), nullptr);
  EXPECT_EQ(reg.find_by_pid(pid(5, 6))->id, "room2");
  EXPECT_EQ(ids(reg.with_tag("rooms")), (std::vector<std::string>{"room1"}));
  EXPECT_EQ(ids(reg.on_node(3)), (std::vector<std::string>{"user1"}));
}

// Two nodes that got the same versions, in any order and with duplicates,
// have the same digests; one differing version shows in its segment only.
TEST(RegistryTest, DigestsAgreeWhateverTheOrderAndShowOneDifference) {
  std::vector<RecordPtr> versions;
  for (int i = 0; i < 2000; ++i) {
    std::string id = "child" + std::to_string(i);
    versions.push_back(record(id, 1, {pid(1, i)}));
    if (i % 3 == 0) versions.push_back(record(id, 2, {pid(2, i)}));
    if (i % 7 == 0) versions.push_back(tombstone(id, 3));
  }
  Registry a(kSegments), b(kSegments);
  for (const RecordPtr& r : versions) a.apply(r);
  std::vector<RecordPtr> shuffled = versions;
  shuffled.insert(shuffled.end(), versions.begin(), versions.begin() + 500);  // duplicates
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(42));
  for (const RecordPtr& r : shuffled) b.apply(r);
  for (uint32_t seg = 0; seg < kSegments.count(); ++seg)
    ASSERT_EQ(a.digest(seg), b.digest(seg)) << seg;
  EXPECT_EQ(a.live_count(), b.live_count());
  EXPECT_EQ(a.tombstone_count(), b.tombstone_count());

  b.apply(record("child1", 9, {pid(1, 1)}));
  uint32_t changed = kSegments.of("child1");
  for (uint32_t seg = 0; seg < kSegments.count(); ++seg) {
    if (seg == changed) {
      EXPECT_NE(a.digest(seg), b.digest(seg));
    } else {
      EXPECT_EQ(a.digest(seg), b.digest(seg)) << seg;
    }
  }
  EXPECT_EQ(a.digest(changed).count, b.digest(changed).count);
}

// Readers on two threads while one writer moves 20,000 children through
// three versions each: a reader sees each record whole (its pid matches its
// epoch) and never a version older than one it saw.
TEST(RegistryTest, ReadersOnOtherThreadsSeeWholeRecordsAndNeverGoBack) {
  Registry reg(kSegments);
  constexpr int kChildren = 20000;
  std::vector<std::string> ids;
  for (int i = 0; i < kChildren; ++i) ids.push_back("child" + std::to_string(i));
  std::atomic<bool> done{false};
  std::atomic<long> torn{0};
  std::atomic<long> backwards{0};
  std::atomic<long> reads{0};
  auto reader = [&](unsigned seed) {
    std::mt19937 rng(seed);
    std::vector<uint64_t> seen(kChildren, 0);
    while (!done.load(std::memory_order_acquire)) {
      int i = static_cast<int>(rng() % kChildren);
      RecordPtr r = reg.find(ids[i]);
      reads.fetch_add(1, std::memory_order_relaxed);
      if (!r) continue;
      if (r->pids.size() != 1 || r->pids[0].serial != r->epoch) torn.fetch_add(1);
      if (r->epoch < seen[i]) backwards.fetch_add(1);
      seen[i] = r->epoch;
    }
  };
  std::thread r1(reader, 1), r2(reader, 2);
  for (uint32_t epoch = 1; epoch <= 3; ++epoch) {
    for (int i = 0; i < kChildren; ++i) {
      reg.apply(record(ids[i], epoch, {Pid{1, static_cast<uint32_t>(i), epoch}}));
    }
  }
  // Let the readers see the final state too, then stop them.
  long before = reads.load();
  while (reads.load() < before + 1000) std::this_thread::yield();
  done.store(true, std::memory_order_release);
  r1.join();
  r2.join();
  EXPECT_EQ(torn.load(), 0);
  EXPECT_EQ(backwards.load(), 0);
  EXPECT_EQ(reg.live_count(), static_cast<size_t>(kChildren));
}

// The fence of a hot swap: a route() that found no hold has returned by the
// time set_moving() does, and every route() after it finds the buffer.
TEST(RegistryTest, SetMovingFencesTheRoutesThatFoundNoHold) {
  Registry reg(kSegments);
  reg.apply(record("moving", 1, {Pid{1, 1, 1}}));
  struct Seen {
    std::atomic<int> unheld_in_route{0};
    std::atomic<long> unheld{0};
    std::atomic<long> held{0};
  } seen;
  std::atomic<bool> done{false};
  auto sender = [&] {
    while (!done.load(std::memory_order_acquire)) {
      (void)reg.route(
          "moving",
          [](void* context, const ChildRecord* r, MoveBuffer* moving) -> plexus::Status {
            Seen& s = *static_cast<Seen*>(context);
            if (moving) {
              s.held.fetch_add(1);
              return plexus::Status::OK();
            }
            s.unheld_in_route.fetch_add(1);
            // A send in progress: long enough for set_moving to wait for it.
            for (int i = 0; i < 200 && r; ++i) std::atomic_signal_fence(std::memory_order_seq_cst);
            s.unheld.fetch_add(1);
            s.unheld_in_route.fetch_sub(1);
            return plexus::Status::OK();
          },
          &seen);
    }
  };
  std::thread a(sender), b(sender);
  while (seen.unheld.load() < 10000) std::this_thread::yield();
  reg.set_moving("moving", std::make_shared<MoveBuffer>(10));
  EXPECT_EQ(seen.unheld_in_route.load(), 0) << "a send that found no hold was still going";
  long unheld = seen.unheld.load();
  while (seen.held.load() < 10000) std::this_thread::yield();
  EXPECT_EQ(seen.unheld.load(), unheld) << "a route after the fence found no hold";
  EXPECT_NE(reg.moving("moving"), nullptr);
  EXPECT_EQ(reg.moving_ids(), std::vector<std::string>{"moving"});
  reg.clear_moving("moving");
  long held = seen.held.load();
  while (seen.unheld.load() < unheld + 10000) std::this_thread::yield();
  done.store(true, std::memory_order_release);
  a.join();
  b.join();
  EXPECT_LE(seen.held.load(), held + 2) << "at most the routes in flight at the clear";
  EXPECT_EQ(reg.moving("moving"), nullptr);
}

TEST(MoveBufferTest, HoldsUpToItsLimitThenAsksTheSenderToTryAgain) {
  MoveBuffer buffer(2);
  Pid to;
  for (int i = 0; i < 2; ++i) {
    plexus::Message m = plexus::Message::of(i);
    ASSERT_TRUE(buffer.hold(m, &to).ok());
    EXPECT_TRUE(m.empty()) << "held: the buffer has it";
  }
  plexus::Message third = plexus::Message::of(3);
  plexus::Status full = buffer.hold(third, &to);
  EXPECT_EQ(full.code(), plexus::StatusCode::kResourceExhausted) << full;
  EXPECT_FALSE(third.empty()) << "refused: the sender keeps it";
}

}  // namespace
}  // namespace plexus_test

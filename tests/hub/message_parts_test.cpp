// Bulk hub messages in parts (hub/src/message_parts.h): the cut keeps each
// part near its budget and loses nothing; the receiver takes each part once
// and knows when it has them all.
#include "message_parts.h"

#include <gtest/gtest.h>

#include <set>

#include "plexus/hub.pb.h"

namespace {

using plexus::hub::Handoff;
using plexus::hub::SavedStateProto;
using plexus::hub::detail::part_budget;
using plexus::hub::detail::PartCutter;
using plexus::hub::detail::PartsReceived;

// A handoff from "a" in view 7 whose saved states are `count` of `bytes` each,
// cut with `budget`.
std::vector<Handoff> cut(int count, size_t bytes, size_t budget) {
  Handoff header;
  header.mutable_from()->set_node("a@h");
  header.set_view(7);
  PartCutter<Handoff> cutter(budget, header);
  for (int i = 0; i < count; ++i) {
    SavedStateProto* s = cutter.current().add_saved();
    s->set_id("c" + std::to_string(i));
    s->set_state(std::string(bytes, 'x'));
    cutter.added(s->ByteSizeLong());
  }
  cutter.last().add_digests()->set_segment(3);
  return std::move(cutter).numbered();
}

TEST(MessageParts, TheBudgetIsAMebibyteOrAQuarterOfASmallerFrameLimit) {
  EXPECT_EQ(part_budget(size_t{64} << 20), size_t{1} << 20);
  EXPECT_EQ(part_budget(size_t{128} << 10), size_t{32} << 10);
  EXPECT_EQ(part_budget(1024), 256u);
}

TEST(MessageParts, ACutKeepsEveryItemOnceInOrderAndEachPartNearItsBudget) {
  std::vector<Handoff> parts = cut(1000, 1000, 16 << 10);
  ASSERT_GT(parts.size(), 50u);
  ASSERT_LT(parts.size(), 70u) << "about 16 items of 1 KiB in each 16 KiB part";
  int next = 0;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Handoff& p = parts[i];
    EXPECT_EQ(p.from().node(), "a@h") << "every part carries the header";
    EXPECT_EQ(p.view(), 7u);
    EXPECT_EQ(p.part(), i);
    EXPECT_EQ(p.parts(), parts.size());
    EXPECT_LE(p.ByteSizeLong(), (16u << 10) + 1100) << "at most one item over the budget";
    if (i + 1 < parts.size()) EXPECT_GE(p.ByteSizeLong(), 16u << 10) << "full before the next";
    EXPECT_EQ(p.digests_size(), i + 1 == parts.size() ? 1 : 0) << "the digests go last";
    for (const SavedStateProto& s : p.saved()) EXPECT_EQ(s.id(), "c" + std::to_string(next++));
  }
  EXPECT_EQ(next, 1000);
}

TEST(MessageParts, AnEmptyMessageIsOnePartAndAnItemOverTheBudgetGoesAlone) {
  std::vector<Handoff> none = cut(0, 10, 1024);
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].parts(), 1u);
  EXPECT_EQ(none[0].digests_size(), 1);

  std::vector<Handoff> big = cut(3, 5000, 1024);
  ASSERT_EQ(big.size(), 3u);
  for (const Handoff& p : big) EXPECT_EQ(p.saved_size(), 1);
}

TEST(MessageParts, TheReceiverTakesEachPartOnceInAnyOrder) {
  PartsReceived r;
  EXPECT_FALSE(r.complete());
  EXPECT_TRUE(r.take(2, 3));
  EXPECT_FALSE(r.take(2, 3)) << "a duplicate";
  EXPECT_TRUE(r.take(0, 3));
  EXPECT_FALSE(r.complete());
  EXPECT_FALSE(r.take(1, 4)) << "a count that contradicts the first";
  EXPECT_FALSE(r.take(3, 3)) << "a part past the count";
  EXPECT_FALSE(r.complete());
  EXPECT_TRUE(r.take(1, 3));
  EXPECT_TRUE(r.complete());
  EXPECT_FALSE(r.take(1, 3));
}

TEST(MessageParts, ACountNoMessageCouldHaveIsRefusedAndTakesNoMemory) {
  PartsReceived r;
  EXPECT_FALSE(r.take(0, UINT32_MAX));
  EXPECT_FALSE(r.take(0, PartsReceived::kMaxParts + 1));
  EXPECT_FALSE(r.complete());
  EXPECT_TRUE(r.take(0, 2)) << "the count is still open";
  PartsReceived most;
  EXPECT_TRUE(most.take(PartsReceived::kMaxParts - 1, PartsReceived::kMaxParts));
}

TEST(MessageParts, ACountOfZeroIsOnePart) {
  PartsReceived r;
  EXPECT_TRUE(r.take(0, 0));
  EXPECT_TRUE(r.complete());
  PartsReceived other;
  EXPECT_FALSE(other.take(1, 0));
  EXPECT_FALSE(other.complete());
}

}  // namespace

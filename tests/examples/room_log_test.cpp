// RoomLog (examples/chat): what each copy of a room keeps, and how a copy
// takes what another sends it.
#include "room_log.h"

#include <gtest/gtest.h>

namespace plexus_chat {
namespace {

Post post(const std::string& origin, uint64_t seq, const std::string& text = "hi") {
  Post p;
  p.set_user("ann");
  p.set_text(text);
  p.set_origin(origin);
  p.set_seq(seq);
  return p;
}

std::vector<std::string> texts(const RoomLog& log) {
  std::vector<std::string> out;
  for (uint64_t i = 1; i <= log.size(); ++i) out.push_back(log.at(i).text());
  return out;
}

TEST(RoomLogTest, AppendsFromOneWithoutGapsAndFindsARetriedPost) {
  RoomLog log;
  EXPECT_EQ(log.append(post("g1", 1, "a")), 1u);
  EXPECT_EQ(log.append(post("g1", 2, "b")), 2u);
  EXPECT_EQ(log.append(post("g2", 1, "c")), 3u);
  EXPECT_EQ(log.find("g1", 2), 2u);
  EXPECT_EQ(log.find("g2", 1), 3u);
  EXPECT_FALSE(log.find("g2", 2).has_value());
  EXPECT_EQ(log.at(3).index(), 3u);
}

TEST(RoomLogTest, ACopyTakesWhatExtendsItsLogAndSaysHowMuchItHolds) {
  RoomLog active, passive;
  for (uint64_t i = 1; i <= 5; ++i) active.append(post("g", i, "m" + std::to_string(i)));
  // Only the newest entry, to a copy that holds nothing: it takes nothing
  // and says it holds 0, so the active copy sends the rest.
  Replicated first = passive.apply(active.from(5), false);
  EXPECT_EQ(first.size(), 0u);
  EXPECT_EQ(first.conflict(), 0u);
  Replicated second = passive.apply(active.from(first.size() + 1), false);
  EXPECT_EQ(second.size(), 5u);
  EXPECT_EQ(texts(passive), texts(active));
  // Sent again (a retried replicate): nothing changes.
  EXPECT_EQ(passive.apply(active.from(3), false).size(), 5u);
  EXPECT_EQ(texts(passive), texts(active));
  EXPECT_EQ(passive.find("g", 4), 4u);
}

TEST(RoomLogTest, ADifferentEntryIsAConflictUnlessTheActiveCopySendsIt) {
  RoomLog a, b;
  a.append(post("g", 1, "same"));
  b.append(post("g", 1, "same"));
  a.append(post("ga", 1, "from a"));
  b.append(post("gb", 1, "from b"));
  b.append(post("gb", 2, "more from b"));
  // From a copy that is not the active one: refused, at the index where
  // the logs part.
  Replicated refused = b.apply(a.from(2), false);
  EXPECT_EQ(refused.conflict(), 2u);
  EXPECT_EQ(b.size(), 3u);
  // From the active copy: its entries replace what differs, and what came
  // after.
  Replicated taken = b.apply(a.from(2), true);
  EXPECT_EQ(taken.conflict(), 0u);
  EXPECT_EQ(taken.size(), 2u);
  EXPECT_EQ(texts(b), texts(a));
  EXPECT_FALSE(b.find("gb", 1).has_value());
  EXPECT_FALSE(b.find("gb", 2).has_value());
  EXPECT_EQ(b.find("ga", 1), 2u);
}

TEST(RoomLogTest, ASnapshotIsTakenOnlyIfItHoldsMore) {
  RoomLog full, empty;
  for (uint64_t i = 1; i <= 3; ++i) full.append(post("g", i));
  Snapshot snapshot;
  full.snapshot(&snapshot);
  EXPECT_TRUE(empty.adopt(snapshot));
  EXPECT_EQ(empty.size(), 3u);
  EXPECT_EQ(empty.find("g", 3), 3u);
  Snapshot shorter;
  RoomLog one;
  one.append(post("x", 1));
  one.snapshot(&shorter);
  EXPECT_FALSE(empty.adopt(shorter));
  EXPECT_EQ(empty.size(), 3u);
}

TEST(RoomLogTest, LastGivesTheNewestEntriesOldestFirst) {
  RoomLog log;
  for (uint64_t i = 1; i <= 5; ++i) log.append(post("g", i, std::to_string(i)));
  History history;
  log.last(2, &history);
  ASSERT_EQ(history.entries_size(), 2);
  EXPECT_EQ(history.entries(0).text(), "4");
  EXPECT_EQ(history.entries(1).text(), "5");
  History all;
  log.last(100, &all);
  EXPECT_EQ(all.entries_size(), 5);
}

TEST(RoomLogTest, AReplicateThatStartsBeyondTheEndAddsNothing) {
  RoomLog active, passive;
  for (uint64_t i = 1; i <= 4; ++i) active.append(post("g", i));
  passive.apply(active.from(1), false);
  active.append(post("g", 5));
  active.append(post("g", 6));
  Replicated answer = passive.apply(active.from(6), false);
  EXPECT_EQ(answer.size(), 4u);
  EXPECT_EQ(passive.size(), 4u);
}

}  // namespace
}  // namespace plexus_chat

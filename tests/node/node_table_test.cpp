// NodeTable: node incarnations numbered by slot and generation, retired when a
// newer incarnation replaces them, capped while only named, and a table that
// never fills for good.
#include "node_table.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "peer.h"

namespace {

using plexus::detail::NodeAddress;
using plexus::detail::NodeTable;
using plexus::detail::Peer;
using Use = NodeTable::Use;

class NodeTableTest : public ::testing::Test {
 protected:
  Peer* peer(const std::string& name) {
    peers_.push_back(std::make_unique<Peer>(name, NodeAddress{}));
    return peers_.back().get();
  }
  std::vector<std::unique_ptr<Peer>> peers_;
  NodeTable table_;
};

TEST_F(NodeTableTest, AnIncarnationKeepsItsNumber) {
  Peer* b = peer("b@h:1");
  uint32_t first = table_.intern("b@h:1", 7, b, Use::kConnected);
  ASSERT_NE(first, 0u);
  EXPECT_EQ(table_.intern("b@h:1", 7, b, Use::kNamed), first);
  auto e = table_.get(first);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e->name, "b@h:1");
  EXPECT_EQ(e->creation, 7u);
  EXPECT_EQ(e->peer, b);
  uint32_t second = table_.intern("b@h:1", 8, b, Use::kConnected);
  EXPECT_NE(second, first);
  EXPECT_FALSE(table_.get(0).has_value());
}

// A peer that restarts 70,000 times (more than the table has slots): each old
// incarnation is retired and its slot reused, and a pid of a reused slot's
// old generation names nothing (not the new occupant).
TEST_F(NodeTableTest, RestartsBeyondTheTablesSizeNeverFillIt) {
  Peer* b = peer("b@h:1");
  uint32_t first = table_.intern("b@h:1", 1, b, Use::kConnected);
  for (uint64_t creation = 2; creation <= 70000; ++creation) {
    table_.retire("b@h:1", creation - 1);
    std::string why;
    ASSERT_NE(table_.intern("b@h:1", creation, b, Use::kConnected, &why), 0u)
        << "restart " << creation << ": " << why;
  }
  EXPECT_FALSE(table_.get(first).has_value()) << "a pid of the first incarnation names another";
  EXPECT_EQ(table_.counts().live, 1u);
  // A new node still gets in.
  EXPECT_NE(table_.intern("c@h:2", 1, peer("c@h:2"), Use::kConnected), 0u);
}

// Incarnations only named in pids (never connected) are capped: a peer that
// names millions of made-up nodes cannot fill the table, and a peer that
// connects always gets a slot.
TEST_F(NodeTableTest, NamedIncarnationsAreCapped) {
  std::vector<Peer*> named;
  for (uint32_t i = 0; i < NodeTable::kMaxNamed + 5000; ++i) {
    Peer* p = peer("x" + std::to_string(i) + "@h:1");
    ASSERT_NE(table_.intern(p->name, 1, p, Use::kNamed), 0u) << i;
  }
  EXPECT_LE(table_.counts().named, NodeTable::kMaxNamed);
  EXPECT_NE(table_.intern("real@h:1", 1, peer("real@h:1"), Use::kConnected), 0u);
}

// With every slot held by a connected incarnation, the refusal says why.
TEST_F(NodeTableTest, AFullTableSaysWhy) {
  Peer* p = peer("n@h:1");
  for (uint32_t i = 1; i < NodeTable::kSlots; ++i) {
    ASSERT_NE(table_.intern(p->name, i, p, Use::kConnected), 0u) << i;
  }
  std::string why;
  EXPECT_EQ(table_.intern(p->name, 999999, p, Use::kConnected, &why), 0u);
  EXPECT_NE(why.find("node table full"), std::string::npos) << why;
  EXPECT_NE(why.find("65535"), std::string::npos) << why;
  // Retiring one makes room at once.
  table_.retire(p->name, 5);
  EXPECT_NE(table_.intern(p->name, 999999, p, Use::kConnected), 0u);
}

// Nodes that come and go under new names (a fleet whose hosts are replaced):
// 70,000 of them, each connected once and then down for good. A node that is
// down keeps its slot while there is room (its pids are answered
// noconnection, and it may come back); a full table takes the one down
// longest, never one that is connected.
TEST_F(NodeTableTest, NodesThatLeaveForGoodMakeRoomWhenTheTableIsFull) {
  Peer* stays = peer("stays@h:1");
  uint32_t staying = table_.intern(stays->name, 1, stays, Use::kConnected);
  Peer* back = peer("back@h:1");
  uint32_t returning = table_.intern(back->name, 1, back, Use::kConnected);
  table_.went_down(back->name, 1);
  EXPECT_EQ(table_.intern(back->name, 1, back, Use::kConnected), returning)
      << "a node that reconnects keeps its number";
  Peer* first_gone = nullptr;
  uint32_t first_gone_number = 0;
  for (uint32_t i = 0; i < 70000; ++i) {
    Peer* p = peer("n" + std::to_string(i) + "@h:1");
    std::string why;
    uint32_t number = table_.intern(p->name, 1, p, Use::kConnected, &why);
    ASSERT_NE(number, 0u) << i << ": " << why;
    table_.went_down(p->name, 1);
    if (i == 0) {
      first_gone = p;
      first_gone_number = number;
    }
  }
  EXPECT_TRUE(table_.get(staying).has_value()) << "a connected node lost its slot";
  EXPECT_TRUE(table_.get(returning).has_value()) << "a connected node lost its slot";
  EXPECT_FALSE(table_.get(first_gone_number).has_value()) << "the one down longest went first";
  EXPECT_EQ(table_.counts().down, NodeTable::kSlots - 1 - 2);
  // It may still come back, with a new number.
  EXPECT_NE(table_.intern(first_gone->name, 1, first_gone, Use::kConnected), 0u);
}

TEST_F(NodeTableTest, ThisNodesEarlierIncarnationsAreNamedByItsName) {
  std::string self = "a@h:1";
  table_.set_self(&self);
  uint32_t old = table_.intern(self, 3, nullptr, Use::kNamed);
  ASSERT_NE(old, 0u);
  auto e = table_.get(old);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(*e->name, self);
  EXPECT_EQ(e->peer, nullptr);
  EXPECT_EQ(table_.counts().retired, 1u) << "an earlier incarnation is gone already";
}

}  // namespace

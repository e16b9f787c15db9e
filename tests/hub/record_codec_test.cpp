// The wire form of views and records: round trips between two nodes, whose
// tables number each other differently, and what a bad peer could send.
#include "record_codec.h"

#include <gtest/gtest.h>

#include "node_test_support.h"
#include "plexus/node/node.h"

namespace plexus_test {
namespace {

using plexus::Pid;
using plexus::StatusCode;
using plexus::hub::ChildRecord;
using plexus::hub::ChildRecordProto;
using plexus::hub::ChildSpec;
using plexus::hub::PidList;
using plexus::hub::ViewProto;
using plexus::hub::detail::decode;
using plexus::hub::detail::encode;
using plexus::hub::detail::RecordPtr;
using plexus::strategies::Member;
using plexus::strategies::Segments;
using plexus::strategies::View;

const Segments kSegments = *Segments::make();

TEST(RecordCodecTest, AViewRoundTripsAndAMemberWithoutNameOrCreationIsRefused) {
  View view(9, {{"b@h:1", 2}, {"a@h:1", 7}});
  ViewProto proto;
  encode(view, &proto);
  auto back = decode(proto);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->number(), 9u);
  EXPECT_EQ(back->members(), view.members());
  proto.mutable_members(0)->set_creation(0);
  EXPECT_EQ(decode(proto).status().code(), StatusCode::kInvalidArgument);
  proto.mutable_members(0)->set_creation(1);
  proto.mutable_members(1)->set_node("");
  EXPECT_EQ(decode(proto).status().code(), StatusCode::kInvalidArgument);
}

class RecordCodecNodesTest : public ::testing::Test {
 protected:
  std::unique_ptr<plexus::Node> a_ = start_node("codec_a");
  std::unique_ptr<plexus::Node> b_ = start_node("codec_b");
};

// A record of a child on a travels to b and back: b numbers a in its own
// table, and back on a the pid is a's own again.
TEST_F(RecordCodecNodesTest, ARecordRoundTripsBetweenNodesWithEveryField) {
  auto spec = std::make_shared<ChildSpec>();
  spec->id = "room:9";
  spec->type = "counter";
  spec->init_args = std::string("\x08\x01", 2);
  spec->restart = plexus::Restart::kTransient;
  spec->shutdown = std::chrono::milliseconds(1500);
  spec->metadata = {{"tag", "rooms"}, {"floor", "3"}};
  ChildRecord record;
  record.id = "room:9";
  record.segment = kSegments.of(record.id);
  record.epoch = (uint64_t{7} << 32) | 12;
  record.spec = spec;
  Pid local{0, 42, 3};
  record.pids = PidList({local});
  record.placement = plexus::detail::Indirect<std::vector<std::string>>({a_->name()});

  ChildRecordProto on_wire;
  encode(record, *a_, &on_wire);
  auto at_b = decode(on_wire, *b_, kSegments);
  ASSERT_TRUE(at_b.ok()) << at_b.status();
  const ChildRecord& r = **at_b;
  EXPECT_EQ(r.id, "room:9");
  EXPECT_EQ(r.segment, record.segment);
  EXPECT_EQ(r.epoch, record.epoch);
  EXPECT_FALSE(r.tombstone);
  EXPECT_EQ(r.spec->type, "counter");
  EXPECT_EQ(r.spec->init_args, spec->init_args);
  EXPECT_EQ(r.spec->restart, plexus::Restart::kTransient);
  EXPECT_EQ(r.spec->shutdown.count(), 1500);
  EXPECT_EQ(r.spec->metadata, spec->metadata);
  EXPECT_EQ(r.tag(), "rooms");
  ASSERT_EQ(r.pids.size(), 1u);
  EXPECT_NE(r.pids[0].node, 0u) << "on b, the pid is on another node";
  EXPECT_EQ(r.pids[0].index, 42u);
  ASSERT_TRUE(r.placement);
  EXPECT_EQ(*r.placement, std::vector<std::string>{a_->name()});

  ChildRecordProto back_on_wire;
  encode(r, *b_, &back_on_wire);
  auto at_a = decode(back_on_wire, *a_, kSegments);
  ASSERT_TRUE(at_a.ok()) << at_a.status();
  EXPECT_EQ((*at_a)->pids[0], local) << "back on a, the pid is a's own";
}

TEST_F(RecordCodecNodesTest, ATombstoneNeedsNoSpec) {
  ChildRecordProto proto;
  proto.set_id("gone");
  proto.set_epoch(5);
  proto.set_tombstone(true);
  auto r = decode(proto, *a_, kSegments);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)->tombstone);
  EXPECT_TRUE((*r)->pids.empty());
}

// What a faulty or hostile peer could send is refused with the record's id.
TEST_F(RecordCodecNodesTest, BadRecordsAreRefusedByName) {
  ChildRecordProto no_id;
  EXPECT_EQ(decode(no_id, *a_, kSegments).status().code(), StatusCode::kInvalidArgument);

  ChildRecordProto no_spec;
  no_spec.set_id("x");
  auto refused = decode(no_spec, *a_, kSegments);
  EXPECT_EQ(refused.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("child record x"), std::string::npos);

  ChildRecordProto bad_restart;
  bad_restart.set_id("y");
  bad_restart.mutable_spec()->set_type("counter");
  bad_restart.mutable_spec()->set_restart(static_cast<plexus::hub::RestartProto>(9));
  EXPECT_EQ(decode(bad_restart, *a_, kSegments).status().code(), StatusCode::kInvalidArgument);

  ChildRecordProto bad_pid;
  bad_pid.set_id("z");
  bad_pid.mutable_spec()->set_type("counter");
  plexus::PidProto* p = bad_pid.add_pids();
  p->set_node("not a node name");
  p->set_creation(1);
  p->set_index(1);
  p->set_serial(1);
  EXPECT_EQ(decode(bad_pid, *a_, kSegments).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace plexus_test

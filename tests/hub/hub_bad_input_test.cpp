// Malformed hub messages from a connected node: the members log and drop
// what they cannot use, keep running, and their registries stay whole. A
// seeded loop also sends random bytes parsed as each hub message type (what
// parses, partly or at all, is sent). The peer is authenticated (it has the
// cookie), so well-formed messages are obeyed; only malformed ones are here.
#include <google/protobuf/stubs/logging.h>
#include <gtest/gtest.h>

#include <random>

#include "hub_cluster.h"
#include "plexus/hub.pb.h"
#include "record_codec.h"

namespace {

using namespace plexus_test;
namespace ph = plexus::hub;

class HubBadInputTest : public ::testing::Test {
 protected:
  void SetUp() override {
    cluster_.add("a");
    cluster_.add("b");
    ASSERT_EQ(cluster_.settle(), "");
    auto f = cluster_.hub(0).start_children(worker_specs("w", 50), {.awaitable = true});
    ASSERT_TRUE(f.ok());
    ASSERT_TRUE(cluster_.net().run_until([&] { return f->ready(); }, 10s));
    ASSERT_TRUE(f->await(0ms)->ok());
    NodeOptions o;
    o.name = "x@loop:0";
    o.cookie = kCookie;
    o.loopback = &cluster_.net();
    o.runtime = runtime_options(Sched::kDeterministic, nullptr);
    x_ = start_node(o);
    ASSERT_TRUE(x_->connect(cluster_.node(0).name()).ok());
  }
  void TearDown() override { x_.reset(); }
  template <class M>
  void send(M msg) {
    (void)x_->send(cluster_.node(0).name(), "plexus.hub.bad", std::move(msg));
    cluster_.net().run_until_idle();
  }
  // The members still agree and every child still runs once.
  void expect_whole() {
    cluster_.net().advance(1s);
    std::set<std::string> expected;
    for (int i = 0; i < 50; ++i) expected.insert("w" + std::to_string(i));
    EXPECT_EQ(cluster_.settle(10s), "");
    EXPECT_EQ(cluster_.check(&expected), "");
    EXPECT_TRUE(cluster_.hub(0).is_alive());
    EXPECT_TRUE(cluster_.hub(1).is_alive());
  }

  LogCapture logs_;
  HubCluster cluster_{fast_config("bad"), &logs_};
  std::unique_ptr<Node> x_;
};

// A well-formed but stale update: the live record of a child that has been
// stopped since, sent to both members again and again, as a change, as
// anti-entropy records and as an answer, while its tombstone stands. Each is
// older than the tombstone, so the child stays stopped on every member.
TEST_F(HubBadInputTest, AStaleOrDuplicatedUpdateAfterAStopDoesNotBringTheChildBack) {
  std::optional<hub::ChildInfo> before = cluster_.hub(0).child_lookup("w7");
  ASSERT_TRUE(before);
  plexus::hub::ChildRecord live;
  live.id = before->id;
  live.epoch = before->epoch;
  live.stamp = before->stamp;
  live.segment = 0;  // not sent
  live.spec = before->spec;
  std::vector<plexus::Pid> pids;
  for (const hub::NodePid& p : before->nodes) pids.push_back(p.pid);
  live.pids = plexus::hub::PidList(pids);
  ph::ChildRecordProto stale;
  ph::detail::encode(live, cluster_.node(0), &stale);

  auto stop = cluster_.hub(1).stop_child("w7", {.awaitable = true});
  ASSERT_TRUE(stop.ok());
  ASSERT_TRUE(cluster_.net().run_until([&] { return stop->ready(); }, 10s));
  ASSERT_TRUE(stop->await(0ms)->ok());
  ASSERT_EQ(cluster_.settle(), "");
  ASSERT_FALSE(cluster_.hub(0).child_lookup("w7"));

  for (size_t member = 0; member < 2; ++member) {
    for (int copy = 0; copy < 3; ++copy) {
      ph::RecordsDelta delta;
      delta.set_view(cluster_.hub(member).view_number());
      *delta.add_records() = stale;
      ph::SegmentRecords records;
      records.mutable_from()->set_node(cluster_.node(1 - member).name());
      records.mutable_from()->set_creation(cluster_.node(1 - member).creation());
      *records.add_records() = stale;
      ph::SegmentRecords answer = records;
      answer.set_round(cluster_.hub(member).view_number());
      answer.set_answer(true);
      (void)x_->send(cluster_.node(member).name(), "plexus.hub.bad", delta);
      (void)x_->send(cluster_.node(member).name(), "plexus.hub.bad", records);
      (void)x_->send(cluster_.node(member).name(), "plexus.hub.bad", answer);
    }
  }
  cluster_.net().run_until_idle();
  cluster_.net().advance(500ms);
  std::set<std::string> expected;
  for (int i = 0; i < 50; ++i) {
    if (i != 7) expected.insert("w" + std::to_string(i));
  }
  EXPECT_EQ(cluster_.settle(10s), "");
  EXPECT_EQ(cluster_.check(&expected), "");
  for (size_t member = 0; member < 2; ++member) {
    EXPECT_FALSE(cluster_.hub(member).child_lookup("w7")) << "member " << member;
  }
  EXPECT_EQ(cluster_.running().copies("w7"), 0u);
}

TEST_F(HubBadInputTest, MalformedMessagesAreDroppedAndTheHubKeepsItsChildren) {
  // Records of anti-entropy are taken from a member of the view only: these
  // claim to come from b, as a member's malformed message would.
  ph::SegmentRecords far;
  far.mutable_from()->set_node(cluster_.node(1).name());
  far.mutable_from()->set_creation(cluster_.node(1).creation());
  far.set_round(0);
  far.add_segments(1u << 30);
  far.add_wanted(4096);
  far.add_wanted(UINT32_MAX);
  ph::ChildRecordProto* bad_pid = far.add_records();
  bad_pid->set_id("w1");
  bad_pid->set_epoch(~0ull);
  bad_pid->mutable_spec()->set_type("worker");
  bad_pid->add_pids()->set_node("not a node name");
  bad_pid->mutable_pids(0)->set_serial(1);
  ph::ChildRecordProto* no_spec = far.add_records();
  no_spec->set_id("w2");
  no_spec->set_epoch(~0ull);
  ph::ChildRecordProto* bad_restart = far.add_records();
  bad_restart->set_id("w3");
  bad_restart->set_epoch(~0ull);
  bad_restart->mutable_spec()->set_type("worker");
  bad_restart->mutable_spec()->set_restart(static_cast<ph::RestartProto>(99));
  far.add_records();  // no id at all
  send(far);
  size_t dropped = logs_.count(plexus::LogLevel::kWarning, {"dropped a record"});
  EXPECT_GT(dropped, 0u) << logs_.dump();
  ph::SegmentRecords foreign = far;  // from a node of no view: not even read
  foreign.mutable_from()->set_node(x_->name());
  foreign.mutable_from()->set_creation(x_->creation());
  send(foreign);
  EXPECT_EQ(logs_.count(plexus::LogLevel::kWarning, {"dropped a record"}), dropped);

  ph::DigestSummary summary;
  summary.mutable_from()->set_node(x_->name());
  summary.add_groups(1);  // 1 group, not 64
  summary.set_answer(true);
  summary.add_segments()->set_segment(1u << 31);
  send(summary);

  ph::HubView view;
  view.mutable_from()->set_node(x_->name());
  view.mutable_view()->set_number(~0ull);
  view.mutable_view()->add_members();  // no name, no creation
  send(view);

  ph::Handoff handoff;
  handoff.mutable_from()->set_node(x_->name());
  handoff.set_view(cluster_.hub(0).view_number());
  handoff.add_digests()->set_segment(1u << 31);
  send(handoff);

  ph::HubHello empty;
  send(empty);
  ph::HubHello other;
  other.mutable_from()->set_node(x_->name());
  other.mutable_from()->set_creation(x_->creation());
  other.set_signature("segments=1 distribution=nonsense redundancy=?");
  send(other);

  ph::RunChild run;
  run.set_from(x_->name());
  run.set_view(cluster_.hub(0).view_number());
  run.mutable_record()->set_id("w4");  // live, without a spec
  send(run);

  ph::StartRequest start;
  start.set_caller(x_->name());
  start.set_call(1);
  start.set_view(cluster_.hub(0).view_number());
  start.add_specs();  // no id
  start.add_specs()->set_id("bad-restart");
  start.mutable_specs(1)->set_type("worker");
  start.mutable_specs(1)->set_restart(static_cast<ph::RestartProto>(7));
  start.set_hops(1000);
  send(start);

  ph::ChildRunning forged;
  forged.set_from(x_->name());
  forged.set_id("w5");
  send(forged);
  ph::ChildEvent event;
  event.set_from(x_->name());
  event.set_id("w6");
  send(event);
  ph::HaltChild halt;
  halt.set_from(x_->name());
  halt.set_id("nobody");
  send(halt);

  // Hot swap: only a child's decider moves it, only a member fences.
  ph::MoveBegin begin;
  begin.set_from(x_->name());
  begin.set_view(cluster_.hub(0).view_number());
  ph::MoveProto* move = begin.add_moves();
  move->set_id("w7");
  move->set_from(cluster_.node(0).name());
  move->set_move(UINT64_MAX);
  send(begin);
  ph::HandOver hand;
  hand.set_from(x_->name());
  hand.set_view(cluster_.hub(0).view_number());
  hand.set_id("w7");
  hand.set_to_node(x_->name());
  send(hand);
  ph::HandoverStateProto state;
  state.set_id("w8");
  state.set_move(1);
  state.set_state("forged");
  send(state);
  ph::HubDrain drain;  // not a member: nothing to drain
  drain.mutable_from()->set_node(x_->name());
  send(drain);
  // An answer no one asked for holds nothing, even in a member's name; a
  // query of a view to come waits, once per node however often it comes.
  ph::HoldAnswer unasked;
  unasked.set_from(cluster_.node(1).name());
  unasked.set_every(true);
  unasked.set_view(cluster_.hub(0).view_number());
  unasked.add_ids("w1");
  unasked.add_moves(UINT64_MAX);
  unasked.add_handed_over(true);
  send(unasked);
  ph::HoldQuery early;
  early.set_from(x_->name());
  early.set_view(~0ull);
  early.set_every(true);
  for (int i = 0; i < 100; ++i) send(early);
  Sender sender{{"w1"}};  // not held: each number goes straight to the child
  cluster_.node(0).runtime().spawn([&sender, &hub = cluster_.hub(0)](Context self) -> Task<> {
    co_await sender.run(self, hub);
  });
  ASSERT_TRUE(cluster_.net().run_until([&] { return sender.rounds >= 3; }, 10s));
  sender.stop = true;
  ASSERT_TRUE(cluster_.net().run_until([&] { return sender.stopped; }, 10s));
  EXPECT_TRUE(sender.refused.empty());
  EXPECT_TRUE(cluster_.net().run_until(
      [&] { return cluster_.running().last_taken("w1", sender.key) == sender.sent["w1"]; }, 10s));

  expect_whole();
  EXPECT_EQ(cluster_.hub(0).nodes(true).size(), 2u) << "x is no member";
  EXPECT_FALSE(cluster_.hub(0).child_lookup("bad-restart"));
  EXPECT_GT(logs_.count(plexus::LogLevel::kWarning, {"dropped a record"}), 0u) << logs_.dump();
}

// Random bytes as each hub message: whatever parses goes in.
TEST_F(HubBadInputTest, RandomBytesAsEveryHubMessageLeaveTheHubWhole) {
  std::mt19937_64 rng(42);
  auto bytes = [&] {
    std::string b(rng() % 64, '\0');
    for (char& c : b) c = static_cast<char>(rng());
    return b;
  };
  auto try_send = [&](auto msg) {
    // Random bytes make protobuf complain of bad UTF-8 as it refuses them.
    google::protobuf::LogSilencer quiet;
    if (msg.ParseFromString(bytes())) send(std::move(msg));
  };
  for (int i = 0; i < 300; ++i) {
    try_send(ph::HubHello());
    try_send(ph::HubView());
    try_send(ph::HubRenew());
    try_send(ph::StartRequest());
    try_send(ph::StopRequest());
    try_send(ph::StartReply());
    try_send(ph::StopReply());
    try_send(ph::RunChild());
    try_send(ph::ChildRunning());
    try_send(ph::HaltChild());
    try_send(ph::ChildHalted());
    try_send(ph::ChildEvent());
    try_send(ph::Handoff());
    try_send(ph::SegmentRecords());
    try_send(ph::DigestSummary());
    try_send(ph::MoveBegin());
    try_send(ph::MoveFenced());
    try_send(ph::HandOver());
    try_send(ph::HandedOver());
    try_send(ph::CallOffHandover());
    try_send(ph::HandoverStateProto());
    try_send(ph::MoveEnd());
    try_send(ph::HoldQuery());
    try_send(ph::HoldAnswer());
    try_send(ph::HubDrain());
  }
  expect_whole();
}

// A change that names nodes which are no members, to pass it on to and to
// acknowledge it to: its records are taken, and nothing is sent to those
// nodes (no member dials them).
TEST_F(HubBadInputTest, AChangeNamingNodesThatAreNoMembersSendsThemNothing) {
  ph::RecordsDelta change;
  change.mutable_origin()->set_node("ghost@loop:9");
  change.set_serial(1);
  change.add_pass_to("ghost@loop:1");
  change.add_pass_to("ghost@loop:2");
  change.set_from("ghost@loop:3");
  send(change);
  cluster_.net().advance(3s);
  EXPECT_EQ(logs_.count(plexus::LogLevel::kDebug, {"ghost@loop:"}), 0u) << logs_.dump();
  for (const std::string& n : cluster_.node(0).nodes()) EXPECT_EQ(n.find("ghost"), n.npos) << n;
  expect_whole();
}

}  // namespace

// Exit reasons and terms as protobuf messages (plexus/node/exit_reason_proto.h)
// and through the frame codec's hand-written Signal.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include "frame_codec.h"
#include "plexus/exit_reason.h"
#include "plexus/node/exit_reason_proto.h"
#include "term_samples.h"

namespace {

using plexus::ExitReason;
using plexus::kMaxTermDepth;
using plexus::kUndecodableReason;
using plexus::Term;
using namespace plexus_test;
namespace wire = plexus::wire;
namespace pd = plexus::detail;

// ---- Reasons as protobuf

// Through to_proto, the bytes, and from_proto.
ExitReason round_trip(const ExitReason& r) {
  wire::Reason w;
  plexus::to_proto(r, &w);
  std::string bytes = w.SerializeAsString();
  wire::Reason parsed;
  EXPECT_TRUE(parsed.ParseFromString(bytes));
  return plexus::from_proto(parsed);
}

// Through the hand-written Signal encoder and protobuf's parser.
ExitReason through_signal(const ExitReason& r) {
  pd::SignalFields f;
  f.kind = wire::Signal::DOWN;
  f.to = pd::WirePid{7, 1, {}};
  f.reason = &r;
  std::string out;
  pd::append_signal(f, &out);
  wire::Frame frame;
  EXPECT_TRUE(frame.ParseFromArray(out.data() + pd::kFrameHeaderSize,
                                   static_cast<int>(out.size() - pd::kFrameHeaderSize)));
  EXPECT_TRUE(frame.signal().has_reason());
  // The same bytes as protobuf's own encoding.
  wire::Reason expected;
  plexus::to_proto(r, &expected);
  EXPECT_EQ(frame.signal().reason().SerializeAsString(), expected.SerializeAsString());
  wire::Frame whole;
  wire::Signal* signal = whole.mutable_signal();
  signal->set_kind(wire::Signal::DOWN);
  signal->mutable_to()->set_index(7);
  signal->mutable_to()->set_serial(1);
  *signal->mutable_reason() = expected;
  std::string by_protobuf;
  pd::append_frame(whole, &by_protobuf);
  EXPECT_EQ(out, by_protobuf);
  return pd::from_wire(frame.signal().reason());
}

std::vector<ExitReason> every_kind() {
  return {ExitReason::normal(),
          ExitReason::kill(),
          ExitReason::killed(),
          ExitReason::shutdown(),
          ExitReason::shutdown("x"),
          ExitReason::shutdown(""),
          ExitReason::noproc(),
          ExitReason::noconnection(),
          ExitReason::error("text"),
          ExitReason::error(""),
          ExitReason::exception("std::runtime_error", "boom: really"),
          ExitReason::error(badmatch()),
          ExitReason::error(every_type()),
          ExitReason::error(Term()),
          ExitReason::error(a("")),
          ExitReason::error(Term::tuple({})),
          ExitReason::error(Term::map({})),
          ExitReason::error(Term::binary("")),
          ExitReason::error(i(0)),
          ExitReason::error(Term::floating(0.0)),
          ExitReason::error(Term::floating(-0.0)),
          ExitReason::error(Term::floating(std::numeric_limits<double>::quiet_NaN())),
          ExitReason::error(i(std::numeric_limits<int64_t>::min())),
          ExitReason::error(i(std::numeric_limits<int64_t>::max())),
          ExitReason::error(a("not \xff UTF-8")),
          ExitReason::error(nested(kMaxTermDepth)),
          ExitReason::error(nested(kMaxTermDepth, /*maps=*/true))};
}

TEST(ReasonProtoTest, EveryKindRoundTrips) {
  for (const ExitReason& r : every_kind()) {
    ExitReason back = round_trip(r);
    EXPECT_EQ(back, r) << r << " came back as " << back;
    EXPECT_EQ(back.has_detail(), r.has_detail()) << r;
    EXPECT_EQ(back.term() != nullptr, r.term() != nullptr) << r;
    EXPECT_EQ(back.to_string(), r.to_string());
  }
}

TEST(ReasonProtoTest, EveryKindCrossesTheHandWrittenSignalEncoder) {
  for (const ExitReason& r : every_kind()) {
    ExitReason back = through_signal(r);
    EXPECT_EQ(back, r) << r << " came back as " << back;
    EXPECT_EQ(back.has_detail(), r.has_detail()) << r;
  }
}

TEST(ReasonProtoTest, TheWireFormOfATerm) {
  wire::Reason w;
  plexus::to_proto(ExitReason::error(badmatch()), &w);
  EXPECT_EQ(w.kind(), wire::Reason::ERROR);
  EXPECT_FALSE(w.has_detail());
  EXPECT_EQ(w.detail(), "");
  ASSERT_TRUE(w.has_term());
  ASSERT_EQ(w.term().value_case(), wire::Term::kTuple);
  ASSERT_EQ(w.term().tuple().items_size(), 2);
  EXPECT_EQ(w.term().tuple().items(0).atom(), "badmatch");
  EXPECT_EQ(w.term().tuple().items(1).list().items(2).integer(), 3);

  // A text reason, and a reason written over one with a term, have none.
  plexus::to_proto(ExitReason::error("text"), &w);
  EXPECT_FALSE(w.has_term());
  EXPECT_EQ(w.detail(), "text");
}

TEST(ReasonProtoTest, ATermTooDeepIsNotSent) {
  ExitReason undecodable = ExitReason::error(kUndecodableReason);
  for (bool maps : {false, true}) {
    ExitReason deep = ExitReason::error(nested(kMaxTermDepth + 1, maps));
    wire::Reason w;
    plexus::to_proto(deep, &w);
    EXPECT_FALSE(w.has_term());
    EXPECT_EQ(w.kind(), wire::Reason::ERROR);
    EXPECT_EQ(w.detail(), kUndecodableReason);
    EXPECT_EQ(plexus::from_proto(w), undecodable);
    EXPECT_EQ(through_signal(deep), undecodable);
    wire::Term t;
    EXPECT_FALSE(plexus::to_proto(nested(kMaxTermDepth + 1, maps), &t));
    EXPECT_TRUE(plexus::to_proto(nested(kMaxTermDepth, maps), &t));
  }
}

// The deepest term allowed, of maps (the deepest encoding), parses within
// protobuf's default nesting limit inside a Frame, with room to spare.
TEST(ReasonProtoTest, TheDeepestTermParsesInAFrame) {
  ExitReason r = ExitReason::error(nested(kMaxTermDepth, /*maps=*/true));
  wire::Frame frame;
  plexus::to_proto(r, frame.mutable_signal()->mutable_reason());
  // Ten more levels around it, as another layer's messages might add.
  wire::Term outer;
  wire::Term* at = &outer;
  for (int d = 0; d < 10; ++d) at = at->mutable_list()->add_items();
  *at = frame.signal().reason().term();
  wire::Frame parsed;
  ASSERT_TRUE(parsed.ParseFromString(frame.SerializeAsString()));
  EXPECT_EQ(plexus::from_proto(parsed.signal().reason()), r);
  wire::Term outer_parsed;
  EXPECT_TRUE(outer_parsed.ParseFromString(outer.SerializeAsString()));
}

// A wire::Term `depth` lists deep (built without recursion).
wire::Reason deep_wire_reason(int depth) {
  wire::Reason w;
  w.set_kind(wire::Reason::ERROR);
  wire::Term* at = w.mutable_term();
  for (int d = 1; d < depth; ++d) at = at->mutable_list()->add_items();
  at->set_atom("core");
  return w;
}

TEST(ReasonProtoTest, ATermTooDeepFromAPeerIsUndecodable) {
  ExitReason undecodable = ExitReason::error(kUndecodableReason);
  EXPECT_EQ(plexus::from_proto(deep_wire_reason(kMaxTermDepth)),
            ExitReason::error(nested(kMaxTermDepth)));
  EXPECT_EQ(plexus::from_proto(deep_wire_reason(kMaxTermDepth + 1)), undecodable);
  // Far deeper than any stack would allow to recurse on: never looked at.
  EXPECT_EQ(plexus::from_proto(deep_wire_reason(5000)), undecodable);

  // As bytes: deeper than the limit but within protobuf's own.
  wire::Reason parsed;
  ASSERT_TRUE(parsed.ParseFromString(deep_wire_reason(40).SerializeAsString()));
  EXPECT_EQ(plexus::from_proto(parsed), undecodable);
  Term out = a("unchanged");
  EXPECT_FALSE(plexus::from_proto(parsed.term(), &out));
  EXPECT_TRUE(out.is_atom("unchanged"));
}

TEST(ReasonProtoTest, AMalformedTermIsUndecodable) {
  ExitReason undecodable = ExitReason::error(kUndecodableReason);
  wire::Reason w;
  w.set_kind(wire::Reason::ERROR);
  w.mutable_term();  // no value
  EXPECT_EQ(plexus::from_proto(w), undecodable);

  w.mutable_term()->mutable_list()->add_items()->set_integer(1);
  w.mutable_term()->mutable_list()->add_items();  // an item without a value
  EXPECT_EQ(plexus::from_proto(w), undecodable);

  w.mutable_term()->mutable_map()->add_entries()->mutable_key()->set_atom("k");  // no value
  EXPECT_EQ(plexus::from_proto(w), undecodable);

  w.mutable_term()->mutable_map()->clear_entries();
  w.mutable_term()->mutable_map()->add_entries()->mutable_value()->set_atom("v");  // no key
  EXPECT_EQ(plexus::from_proto(w), undecodable);

  w.mutable_term()->mutable_map()->mutable_entries(0)->mutable_key()->set_atom("k");
  EXPECT_EQ(plexus::from_proto(w), ExitReason::error(Term::map({{a("k"), a("v")}})));
}

TEST(ReasonProtoTest, ATermWithAnotherKindIsIgnored) {
  wire::Reason w;
  w.set_kind(wire::Reason::SHUTDOWN);
  w.mutable_term()->set_atom("ignored");
  EXPECT_EQ(plexus::from_proto(w), ExitReason::shutdown());
  w.set_kind(static_cast<wire::Reason::Kind>(99));  // from a newer peer
  w.set_detail("new");
  EXPECT_EQ(plexus::from_proto(w), ExitReason::error("new"));
}

}  // namespace

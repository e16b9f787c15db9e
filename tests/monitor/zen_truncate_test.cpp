// zen::truncate: the bound on exit reasons that cross nodes in death batches.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "plexus/zen/truncate.h"

namespace {

using plexus::ExitReason;
using plexus::Term;
using plexus::zen::truncate;
using plexus::zen::TruncateLimits;

Term ints(int n) {
  std::vector<Term> items;
  for (int i = 0; i < n; ++i) items.push_back(Term::integer(i));
  return Term::list(std::move(items));
}

Term truncated() { return Term::atom("truncated"); }

ExitReason error(Term t) { return ExitReason::error(std::move(t)); }

TEST(ZenTruncateTest, TextOf1024BytesPassesAnd1025IsCutTo1021PlusDots) {
  std::string at_limit(1024, 'a');
  EXPECT_EQ(truncate(ExitReason::error(at_limit)), ExitReason::error(at_limit));
  std::string over(1025, 'b');
  ExitReason cut = truncate(ExitReason::error(over));
  EXPECT_EQ(cut.detail().size(), 1024u);
  EXPECT_EQ(cut.detail(), std::string(1021, 'b') + "...");
}

TEST(ZenTruncateTest, BinariesAndAtomsInsideATermAreCutTheSameWay) {
  Term t = Term::tuple({Term::binary(std::string(1025, 'x')), Term::binary(std::string(1024, 'y')),
                        Term::atom(std::string(2000, 'z'))});
  Term want = Term::tuple({Term::binary(std::string(1021, 'x') + "..."),
                           Term::binary(std::string(1024, 'y')),
                           Term::atom(std::string(1021, 'z') + "...")});
  EXPECT_EQ(truncate(error(t)), error(want));
}

TEST(ZenTruncateTest, ContainersOfFourElementsStayAndOfFiveBecomeTruncated) {
  EXPECT_EQ(truncate(error(ints(4))), error(ints(4)));
  EXPECT_EQ(truncate(error(ints(5))), error(truncated()));
  Term four_tuple =
      Term::tuple({Term::atom("a"), Term::atom("b"), Term::atom("c"), Term::atom("d")});
  EXPECT_EQ(truncate(error(four_tuple)), error(four_tuple));
  Term five_tuple = Term::tuple(
      {Term::atom("a"), Term::atom("b"), Term::atom("c"), Term::atom("d"), Term::atom("e")});
  EXPECT_EQ(truncate(error(five_tuple)), error(truncated()));
  std::vector<std::pair<Term, Term>> entries;
  for (int i = 0; i < 4; ++i) entries.emplace_back(Term::integer(i), Term::atom("v"));
  EXPECT_EQ(truncate(error(Term::map(entries))), error(Term::map(entries)));
  entries.emplace_back(Term::integer(4), Term::atom("v"));
  EXPECT_EQ(truncate(error(Term::map(entries))), error(truncated()));
}

TEST(ZenTruncateTest, PartsAtDepthThreeAndBelowBecomeTruncated) {
  // depth 0: the tuple; 1: {b, ...}; 2: {c, d}; 3: c and d.
  Term deep = Term::tuple(
      {Term::atom("a"),
       Term::tuple({Term::atom("b"), Term::tuple({Term::atom("c"), Term::atom("d")})})});
  Term want = Term::tuple(
      {Term::atom("a"), Term::tuple({Term::atom("b"), Term::tuple({truncated(), truncated()})})});
  EXPECT_EQ(truncate(error(deep)), error(want));
  // Everything at depth 2 or less stays.
  Term shallow = Term::tuple({Term::atom("a"), Term::tuple({Term::atom("b"), Term::atom("c")})});
  EXPECT_EQ(truncate(error(shallow)), error(shallow));
  // An empty container at depth 3 is a part at depth 3 too.
  Term empty_deep = Term::list({Term::list({Term::list({Term::list({})})})});
  EXPECT_EQ(truncate(error(empty_deep)),
            error(Term::list({Term::list({Term::list({truncated()})})})));
}

TEST(ZenTruncateTest, MapValuesAreTruncatedAndKeysKept) {
  Term m = Term::map({{Term::atom("big"), ints(10)}, {Term::atom("small"), ints(2)}});
  Term want = Term::map({{Term::atom("big"), truncated()}, {Term::atom("small"), ints(2)}});
  EXPECT_EQ(truncate(error(m)), error(want));
}

TEST(ZenTruncateTest, TopLevelShutdownPassesUnchanged) {
  std::string long_text(5000, 's');
  EXPECT_EQ(truncate(ExitReason::shutdown(long_text)), ExitReason::shutdown(long_text));
  EXPECT_EQ(truncate(ExitReason::shutdown()), ExitReason::shutdown());
  Term shutdown_term = Term::tuple({Term::atom("shutdown"), ints(10'000)});
  EXPECT_EQ(truncate(error(shutdown_term)), error(shutdown_term));
  // Not at the top it follows the rules.
  Term nested = Term::list({shutdown_term});
  EXPECT_EQ(truncate(error(nested)),
            error(Term::list({Term::tuple({Term::atom("shutdown"), truncated()})})));
}

TEST(ZenTruncateTest, ScalarsAndTheBuiltInReasonsPass) {
  EXPECT_EQ(truncate(error(Term::integer(-7))), error(Term::integer(-7)));
  EXPECT_EQ(truncate(error(Term::floating(2.5))), error(Term::floating(2.5)));
  for (const ExitReason& r : {ExitReason::normal(), ExitReason::killed(), ExitReason::noproc(),
                              ExitReason::noconnection(), ExitReason::error("short")}) {
    EXPECT_EQ(truncate(r), r) << r;
  }
}

TEST(ZenTruncateTest, ALongExceptionKeepsItsTypeAndIsCut) {
  ExitReason r = ExitReason::exception("std::runtime_error", std::string(3000, 'w'));
  ExitReason cut = truncate(r);
  EXPECT_EQ(cut.kind(), ExitReason::Kind::kException);
  EXPECT_EQ(cut.detail().size(), 1024u);
  EXPECT_TRUE(cut.detail().starts_with("std::runtime_error: www"));
  EXPECT_TRUE(cut.detail().ends_with("..."));
}

TEST(ZenTruncateTest, ATenThousandEntryStructureBecomesSmall) {
  Term huge = Term::tuple({Term::atom("badmatch"), ints(10'000)});
  EXPECT_EQ(truncate(error(huge)), error(Term::tuple({Term::atom("badmatch"), truncated()})));
}

TEST(ZenTruncateTest, LimitsAreSettings) {
  TruncateLimits limits{.max_binary_size = 8, .depth = 1};
  EXPECT_EQ(truncate(ExitReason::error("123456789"), limits), ExitReason::error("12345..."));
  EXPECT_EQ(truncate(error(Term::list({Term::atom("a")})), limits),
            error(Term::list({truncated()})));
}

}  // namespace

// plexus::Term and ExitReason::error(Term).
#include "plexus/term.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <sstream>
#include <string>
#include <vector>

#include "plexus/exit_reason.h"
#include "term_samples.h"

namespace {

using plexus::ExitReason;
using plexus::Term;
using namespace plexus_test;

// ---- Term

TEST(TermTest, DefaultIsTheEmptyList) {
  Term t;
  EXPECT_EQ(t.type(), Term::Type::kList);
  EXPECT_EQ(t.size(), 0u);
  EXPECT_TRUE(t.elements().empty());
  EXPECT_EQ(t.to_string(), "[]");
  EXPECT_EQ(t, Term::list({}));
  EXPECT_NE(t, Term::tuple({}));
  EXPECT_NE(t, Term::map({}));
}

TEST(TermTest, Atoms) {
  Term t = a("badarg");
  EXPECT_EQ(t.type(), Term::Type::kAtom);
  EXPECT_TRUE(t.is_atom());
  EXPECT_TRUE(t.is_atom("badarg"));
  EXPECT_FALSE(t.is_atom("badarith"));
  EXPECT_FALSE(Term::binary("badarg").is_atom("badarg"));
  EXPECT_EQ(t.atom_name(), "badarg");
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.to_string(), "badarg");
  EXPECT_EQ(a("node@host_1").to_string(), "node@host_1");
  EXPECT_EQ(a("x9Y").to_string(), "x9Y");
}

TEST(TermTest, AtomsAreQuotedWhenErlangNeedsIt) {
  EXPECT_EQ(a("Quoted atom").to_string(), "'Quoted atom'");
  EXPECT_EQ(a("EXIT").to_string(), "'EXIT'");
  EXPECT_EQ(a("_x").to_string(), "'_x'");
  EXPECT_EQ(a("9lives").to_string(), "'9lives'");
  EXPECT_EQ(a("").to_string(), "''");
  EXPECT_EQ(a("a-b").to_string(), "'a-b'");
  EXPECT_EQ(a("case").to_string(), "'case'");  // reserved words
  EXPECT_EQ(a("receive").to_string(), "'receive'");
  EXPECT_EQ(a("cases").to_string(), "cases");
  EXPECT_EQ(a("it's").to_string(), "'it\\'s'");
  EXPECT_EQ(a("back\\slash").to_string(), "'back\\\\slash'");
  EXPECT_EQ(a("line\nfeed\ttab\r").to_string(), "'line\\nfeed\\ttab\\r'");
  EXPECT_EQ(a(std::string_view("nul\0bel\x07", 8)).to_string(), "'nul\\x00bel\\x07'");
  EXPECT_EQ(a("h\xC3\xA9llo").to_string(), "'h\xC3\xA9llo'");  // UTF-8 stays text
  EXPECT_EQ(a("say \"hi\"").to_string(), "'say \"hi\"'");      // no need to escape "
}

TEST(TermTest, Integers) {
  EXPECT_EQ(i(42).type(), Term::Type::kInteger);
  EXPECT_EQ(i(42).integer(), 42);
  EXPECT_EQ(i(42).to_string(), "42");
  EXPECT_EQ(i(-7).to_string(), "-7");
  EXPECT_EQ(i(0).to_string(), "0");
  int64_t min = std::numeric_limits<int64_t>::min();
  EXPECT_EQ(i(min).to_string(), "-9223372036854775808");
  EXPECT_EQ(i(min).integer(), min);
  EXPECT_EQ(i(3), i(3));
  EXPECT_NE(i(3), i(4));
  EXPECT_NE(i(3), Term::floating(3.0));
}

TEST(TermTest, Floats) {
  EXPECT_EQ(Term::floating(1.5).type(), Term::Type::kFloat);
  EXPECT_EQ(Term::floating(1.5).floating(), 1.5);
  EXPECT_EQ(Term::floating(1.5).to_string(), "1.5");
  EXPECT_EQ(Term::floating(42.0).to_string(), "42.0");
  EXPECT_EQ(Term::floating(-0.25).to_string(), "-0.25");
  EXPECT_EQ(Term::floating(0.1).to_string(), "0.1");
  EXPECT_EQ(Term::floating(1e10).to_string(), "1.0e10");
  EXPECT_EQ(Term::floating(1.5e-7).to_string(), "1.5e-7");
  EXPECT_EQ(Term::floating(-2e300).to_string(), "-2.0e300");
  EXPECT_EQ(Term::floating(0.0).to_string(), "0.0");
  EXPECT_EQ(Term::floating(-0.0).to_string(), "-0.0");
  // Whichever of the plain and the exponent forms is shorter, as Erlang/OTP
  // 25's ~p writes them (each checked against erl).
  EXPECT_EQ(Term::floating(0.0001).to_string(), "0.0001");
  EXPECT_EQ(Term::floating(1e-5).to_string(), "1.0e-5");
  EXPECT_EQ(Term::floating(0.00012).to_string(), "1.2e-4");
  EXPECT_EQ(Term::floating(0.001).to_string(), "0.001");
  EXPECT_EQ(Term::floating(-0.001).to_string(), "-0.001");
  EXPECT_EQ(Term::floating(0.01).to_string(), "0.01");
  EXPECT_EQ(Term::floating(2.5e-5).to_string(), "2.5e-5");
  EXPECT_EQ(Term::floating(100.0).to_string(), "100.0");
  EXPECT_EQ(Term::floating(1000.0).to_string(), "1.0e3");
  EXPECT_EQ(Term::floating(1e4).to_string(), "1.0e4");
  EXPECT_EQ(Term::floating(123456.0).to_string(), "123456.0");
  EXPECT_EQ(Term::floating(123.456).to_string(), "123.456");
  EXPECT_EQ(Term::floating(1e15).to_string(), "1.0e15");
  EXPECT_EQ(Term::floating(1.0 / 3).to_string(), "0.3333333333333333");
  // From 2^53 up, always the exponent form.
  EXPECT_EQ(Term::floating(9007199254740992.0).to_string(), "9.007199254740992e15");
  EXPECT_EQ(Term::floating(12345678901234567.0).to_string(), "1.2345678901234568e16");
  EXPECT_EQ(Term::floating(9.999999999999999e22).to_string(), "1.0e23");
  EXPECT_EQ(Term::floating(5e-324).to_string(), "5.0e-324");
  double inf = std::numeric_limits<double>::infinity();
  EXPECT_EQ(Term::floating(inf).to_string(), "inf");
  EXPECT_EQ(Term::floating(-inf).to_string(), "-inf");
  double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(Term::floating(nan).to_string(), "nan");
  // Equality is exact (Erlang's =:=), and a NaN equals itself.
  EXPECT_EQ(Term::floating(2.5), Term::floating(2.5));
  EXPECT_NE(Term::floating(2.5), Term::floating(2.5000001));
  EXPECT_NE(Term::floating(0.0), Term::floating(-0.0));
  EXPECT_EQ(Term::floating(nan), Term::floating(nan));
  EXPECT_EQ(Term::floating(inf), Term::floating(inf));
}

TEST(TermTest, Binaries) {
  Term t = Term::binary("bytes");
  EXPECT_EQ(t.type(), Term::Type::kBinary);
  EXPECT_EQ(t.binary(), "bytes");
  EXPECT_EQ(t.size(), 0u);
  EXPECT_EQ(t.to_string(), "<<\"bytes\">>");
  // As ~p: the bytes as a string when every one is printable Latin-1, else
  // as numbers (each checked against erl).
  EXPECT_EQ(Term::binary("").to_string(), "<<>>");
  EXPECT_EQ(Term::binary("say \"hi\" \\o/").to_string(), "<<\"say \\\"hi\\\" \\\\o/\">>");
  EXPECT_EQ(Term::binary("it's").to_string(), "<<\"it's\">>");
  EXPECT_EQ(Term::binary("\t\n\r\v\b\f\x1b").to_string(), "<<\"\\t\\n\\r\\v\\b\\f\\e\">>");
  EXPECT_EQ(Term::binary("\x01\x02\x03").to_string(), "<<1,2,3>>");
  EXPECT_EQ(Term::binary(std::string_view("\0\x01\xff\x7f\n", 5)).to_string(),
            "<<0,1,255,127,10>>");
  EXPECT_EQ(Term::binary(std::string_view("a\0b", 3)).to_string(), "<<97,0,98>>");
  // Latin-1 from 160 up is printable; it is written as UTF-8.
  EXPECT_EQ(Term::binary("\xa0\xff").to_string(), "<<\"\u00a0\u00ff\">>");
  EXPECT_EQ(Term::binary(std::string_view("a\0b", 3)).binary(), std::string_view("a\0b", 3));
  EXPECT_NE(Term::binary("foo"), a("foo"));
  EXPECT_NE(Term::binary("foo"), Term::binary("fop"));
}

// A list of printable Latin-1 character codes prints as a string, as ~p
// shows it (each checked against erl).
TEST(TermTest, PrintableListsAreStrings) {
  EXPECT_EQ(Term::list({i(104), i(105)}).to_string(), "\"hi\"");
  EXPECT_EQ(Term::list({i(104), i(256)}).to_string(), "[104,256]");
  EXPECT_EQ(Term::list({i(7)}).to_string(), "[7]");
  EXPECT_EQ(Term::list({i(11)}).to_string(), "\"\\v\"");
  EXPECT_EQ(Term::list({i('a'), i('"')}).to_string(), "\"a\\\"\"");
  EXPECT_EQ(Term::list({i(160), i(255)}).to_string(), "\"\u00a0\u00ff\"");
  EXPECT_EQ(Term::list({i(-1)}).to_string(), "[-1]");
  EXPECT_EQ(Term().to_string(), "[]");
  EXPECT_EQ(Term::list({Term::list({i(104), i(105)})}).to_string(), "[\"hi\"]");
  EXPECT_EQ(Term::tuple({a("ok"), Term::list({i('x')})}).to_string(), "{ok,\"x\"}");
}

TEST(TermTest, TuplesListsAndMaps) {
  Term t = badmatch();
  EXPECT_EQ(t.type(), Term::Type::kTuple);
  EXPECT_EQ(t.size(), 2u);
  ASSERT_EQ(t.elements().size(), 2u);
  EXPECT_TRUE(t.elements()[0].is_atom("badmatch"));
  EXPECT_EQ(t.elements()[1].type(), Term::Type::kList);
  EXPECT_EQ(t.elements()[1].size(), 3u);
  EXPECT_EQ(t.to_string(), "{badmatch,[1,2,3]}");

  EXPECT_EQ(Term::tuple({}).to_string(), "{}");
  EXPECT_EQ(Term::tuple({}).size(), 0u);
  EXPECT_EQ(Term::list({a("a"), Term::list({i(1)}), Term()}).to_string(), "[a,[1],[]]");

  Term m = Term::map({{a("k"), a("v")}, {i(1), Term::binary("one")}});
  EXPECT_EQ(m.type(), Term::Type::kMap);
  EXPECT_EQ(m.size(), 2u);
  ASSERT_EQ(m.entries().size(), 2u);
  EXPECT_TRUE(m.entries()[0].first.is_atom("k"));
  EXPECT_TRUE(m.entries()[0].second.is_atom("v"));
  EXPECT_TRUE(m.elements().empty());
  EXPECT_EQ(m.to_string(), "#{k => v,1 => <<\"one\">>}");
  EXPECT_EQ(Term::map({}).to_string(), "#{}");
  EXPECT_EQ(Term::map({}).size(), 0u);

  // As erl prints it (but on one line).
  EXPECT_EQ(every_type().to_string(),
            "{error,[-7,2.5,<<98,34,121,116,101,115,0>>,[]],"
            "#{k => {},<<\"key\">> => #{1 => [x,'Y']}}}");
}

TEST(TermTest, Equality) {
  EXPECT_EQ(badmatch(), badmatch());  // built twice: compared by value
  Term copy = every_type();
  Term same = copy;
  EXPECT_EQ(copy, same);
  EXPECT_EQ(every_type(), copy);
  EXPECT_NE(Term::tuple({a("x"), a("y")}), Term::list({a("x"), a("y")}));
  EXPECT_NE(Term::tuple({a("x"), a("y")}), Term::tuple({a("x")}));
  EXPECT_NE(Term::tuple({a("x"), a("y")}), Term::tuple({a("x"), a("z")}));
  EXPECT_NE(Term::tuple({a("x"), i(1)}), Term::tuple({a("x"), Term::floating(1)}));
  // Maps keep their order.
  Term m1 = Term::map({{a("a"), i(1)}, {a("b"), i(2)}});
  Term m2 = Term::map({{a("b"), i(2)}, {a("a"), i(1)}});
  EXPECT_EQ(m1, Term::map({{a("a"), i(1)}, {a("b"), i(2)}}));
  EXPECT_NE(m1, m2);
  EXPECT_NE(m1, Term::map({{a("a"), i(1)}, {a("b"), i(3)}}));
  EXPECT_NE(nested(10), nested(11));
  EXPECT_EQ(nested(10, true), nested(10, true));
}

TEST(TermTest, AccessorsOfAnotherTypeGiveEmptyValues) {
  Term t = i(5);
  EXPECT_EQ(t.atom_name(), "");
  EXPECT_EQ(t.binary(), "");
  EXPECT_EQ(t.floating(), 0.0);
  EXPECT_TRUE(t.elements().empty());
  EXPECT_TRUE(t.entries().empty());
  EXPECT_FALSE(t.is_atom());
  EXPECT_EQ(a("x").integer(), 0);
  EXPECT_EQ(Term().integer(), 0);
  EXPECT_TRUE(Term().entries().empty());
  EXPECT_TRUE(badmatch().entries().empty());
  EXPECT_EQ(badmatch().binary(), "");
}

TEST(TermTest, Streams) {
  std::ostringstream os;
  os << badmatch();
  EXPECT_EQ(os.str(), "{badmatch,[1,2,3]}");
}

// ---- ExitReason::error(Term)

TEST(TermReasonTest, ErrorWithATerm) {
  ExitReason r = ExitReason::error(badmatch());
  EXPECT_EQ(r.kind(), ExitReason::Kind::kError);
  ASSERT_NE(r.term(), nullptr);
  EXPECT_EQ(*r.term(), badmatch());
  EXPECT_FALSE(r.has_detail());
  EXPECT_EQ(r.detail(), "");
  EXPECT_FALSE(r.is_normal());
  EXPECT_EQ(r.to_string(), "{badmatch,[1,2,3]}");
  std::ostringstream os;
  os << r;
  EXPECT_EQ(os.str(), "{badmatch,[1,2,3]}");
  EXPECT_EQ(ExitReason::error(a("timeout")).to_string(), "timeout");
  EXPECT_EQ(ExitReason::error(Term()).to_string(), "[]");

  ExitReason copy = r;
  ASSERT_NE(copy.term(), nullptr);
  EXPECT_EQ(*copy.term(), badmatch());
  EXPECT_EQ(copy, r);
}

TEST(TermReasonTest, OtherReasonsHaveNoTerm) {
  for (const ExitReason& r :
       {ExitReason::normal(), ExitReason::kill(), ExitReason::killed(), ExitReason::shutdown(),
        ExitReason::shutdown("x"), ExitReason::noproc(), ExitReason::noconnection(),
        ExitReason::error("text"), ExitReason::exception("E", "what")}) {
    EXPECT_EQ(r.term(), nullptr) << r;
  }
  // Unchanged: a text error prints quoted.
  EXPECT_EQ(ExitReason::error("text").to_string(), "\"text\"");
  EXPECT_EQ(ExitReason::error("text").detail(), "text");
}

TEST(TermReasonTest, EqualityComparesTheTerm) {
  EXPECT_EQ(ExitReason::error(badmatch()), ExitReason::error(badmatch()));
  EXPECT_NE(ExitReason::error(badmatch()), ExitReason::error(a("badmatch")));
  EXPECT_NE(ExitReason::error(badmatch()), ExitReason::error("{badmatch,[1,2,3]}"));
  EXPECT_NE(ExitReason::error(a("x")), ExitReason::error("x"));
  EXPECT_NE(ExitReason::error(Term()), ExitReason::error(""));
  EXPECT_NE(ExitReason::error(Term()), ExitReason::normal());
  EXPECT_NE(ExitReason::error(a("shutdown")), ExitReason::shutdown());
}

}  // namespace

#include "plexus/strategies/replication.h"

#include <gtest/gtest.h>

#include "plexus/strategies/singularity.h"
#include "strategy_test_support.h"

namespace plexus_test {
namespace {

using plexus::StatusCode;
using plexus::strategies::Redundancy;
using plexus::strategies::Replication;
using Mode = Redundancy::Mode;
using Model = Redundancy::Model;
using Signal = Redundancy::Signal;

TEST(ReplicationTest, AFixedFactorOrTheHubsMembers) {
  auto two = Replication::make(2);
  ASSERT_TRUE(two.ok());
  EXPECT_EQ(two->replication_factor(view_of(1)), 2) << "the hub places min(factor, members)";
  EXPECT_EQ(two->replication_factor(view_of(5)), 2);
  auto all = Replication::make(Replication::kClusterSize);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->replication_factor(view_of(1)), 1);
  EXPECT_EQ(all->replication_factor(view_of(7)), 7) << "members of the hub's view only";
}

TEST(ReplicationTest, AFactorOutOfRangeIsRefused) {
  for (int bad : {-1, 1025}) {
    auto r = Replication::make(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("replication factor"), std::string::npos);
  }
}

TEST(ReplicationTest, ItsParametersNameEverySetting) {
  auto r = Replication::make(3, Model::kActivePassive, Signal::kAll);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(describe(*r), "replication(factor=3,model=active_passive,signal=all)");
  auto c = Replication::make(Replication::kClusterSize);
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(describe(*c), "replication(factor=cluster_size,model=active_active,signal=none)");
}

TEST(ReplicationTest, ActivePassiveMakesTheFirstCopyActiveAndTheOthersPassive) {
  auto ap = Replication::make(3, Model::kActivePassive);
  ASSERT_TRUE(ap.ok());
  EXPECT_EQ(ap->mode(0), Mode::kActive);
  EXPECT_EQ(ap->mode(1), Mode::kPassive);
  EXPECT_EQ(ap->mode(2), Mode::kPassive);
  auto aa = Replication::make(3, Model::kActiveActive);
  ASSERT_TRUE(aa.ok());
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(aa->mode(i), Mode::kActive);
  plexus::strategies::Singularity one;
  EXPECT_EQ(one.mode(0), Mode::kActive);
  EXPECT_FALSE(one.signals(Mode::kActive));
}

TEST(ReplicationTest, TheSignalSaysWhichModesAreTold) {
  struct Case {
    Signal signal;
    bool active, passive;
  } cases[] = {{Signal::kNone, false, false},
               {Signal::kActive, true, false},
               {Signal::kPassive, false, true},
               {Signal::kAll, true, true}};
  for (const Case& c : cases) {
    auto r = Replication::make(2, Model::kActivePassive, c.signal);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->signals(Mode::kActive), c.active) << name_of(c.signal);
    EXPECT_EQ(r->signals(Mode::kPassive), c.passive) << name_of(c.signal);
  }
}

TEST(ReplicationTest, NamesParseBack) {
  for (Model m : {Model::kActiveActive, Model::kActivePassive}) {
    Model parsed{};
    ASSERT_TRUE(parse(name_of(m), &parsed));
    EXPECT_EQ(parsed, m);
  }
  for (Signal s : {Signal::kNone, Signal::kActive, Signal::kPassive, Signal::kAll}) {
    Signal parsed{};
    ASSERT_TRUE(parse(name_of(s), &parsed));
    EXPECT_EQ(parsed, s);
  }
  Model m{};
  EXPECT_FALSE(parse("active_active_active", &m));
}

}  // namespace
}  // namespace plexus_test

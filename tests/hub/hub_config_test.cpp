// HubConfig: ProcessHub's defaults, a clear error for each bad setting, and
// the signature members compare.
#include "plexus/hub/hub_config.h"

#include <gtest/gtest.h>

#include <functional>

#include "plexus/strategies/bounded_load.h"
#include "plexus/strategies/guided.h"
#include "plexus/strategies/majority_quorum.h"
#include "plexus/strategies/static_quorum.h"

namespace plexus_test {
namespace {

using plexus::StatusCode;
using plexus::hub::ChildSpec;
using plexus::hub::HubConfig;

HubConfig valid_config() {
  HubConfig config;
  config.hub_id = "rooms";
  return config;
}

TEST(HubConfigTest, TheDefaultsAreProcessHubsAndValid) {
  HubConfig config = valid_config();
  EXPECT_TRUE(validate(config).ok()) << validate(config);
  EXPECT_EQ(config.distribution->name(), "consistent_hashing");
  EXPECT_EQ(config.redundancy->name(), "singularity");
  EXPECT_EQ(config.segments, 4096u);
  EXPECT_EQ(config.hubs_discover_interval.count(), 10000);
  EXPECT_EQ(config.storage_purge_interval.count(), 15000);
  EXPECT_EQ(config.migr_base_timeout.count(), 15000);
  EXPECT_EQ(config.dsup_max_restarts, 100);
  EXPECT_EQ(config.dsup_max_seconds.count(), 4);
  EXPECT_EQ(config.dsup_shutdown_timeout.count(), 60000);
}

// Each bad setting is refused with its name in the message.
TEST(HubConfigTest, EachBadSettingIsRefusedByName) {
  struct Case {
    const char* name;
    std::function<void(HubConfig&)> spoil;
  };
  const Case cases[] = {
      {"hub_id", [](HubConfig& c) { c.hub_id = ""; }},
      {"hub_id", [](HubConfig& c) { c.hub_id = "two words"; }},
      {"hub_id", [](HubConfig& c) { c.hub_id = std::string(256, 'h'); }},
      {"distribution", [](HubConfig& c) { c.distribution = nullptr; }},
      {"redundancy", [](HubConfig& c) { c.redundancy = nullptr; }},
      {"migration", [](HubConfig& c) { c.migration = nullptr; }},
      {"partition_tolerance", [](HubConfig& c) { c.partition_tolerance = nullptr; }},
      {"synchronization", [](HubConfig& c) { c.synchronization = nullptr; }},
      {"partition_stop_timeout", [](HubConfig& c) { c.partition_stop_timeout = {}; }},
      {"fence_margin", [](HubConfig& c) { c.fence_margin = std::chrono::milliseconds(-1); }},
      {"handover_buffer", [](HubConfig& c) { c.handover_buffer = 0; }},
      {"segments", [](HubConfig& c) { c.segments = 1000; }},
      {"hubs_discover_interval", [](HubConfig& c) { c.hubs_discover_interval = {}; }},
      {"storage_purge_interval",
       [](HubConfig& c) { c.storage_purge_interval = std::chrono::milliseconds(-1); }},
      {"migr_base_timeout", [](HubConfig& c) { c.migr_base_timeout = {}; }},
      {"dsup_shutdown_timeout", [](HubConfig& c) { c.dsup_shutdown_timeout = {}; }},
      {"dsup_max_seconds", [](HubConfig& c) { c.dsup_max_seconds = {}; }},
      {"dsup_max_restarts", [](HubConfig& c) { c.dsup_max_restarts = -1; }},
      {"empty id", [](HubConfig& c) { c.child_specs = {ChildSpec{.type = "counter"}}; }},
      {"no type", [](HubConfig& c) { c.child_specs = {ChildSpec{.id = "a"}}; }},
      {"is twice",
       [](HubConfig& c) {
         c.child_specs = {ChildSpec{.id = "a", .type = "counter"},
                          ChildSpec{.id = "a", .type = "counter"}};
       }},
      {"negative shutdown",
       [](HubConfig& c) {
         c.child_specs = {
             ChildSpec{.id = "a", .type = "counter", .shutdown = std::chrono::milliseconds(-5)}};
       }},
  };
  for (const Case& c : cases) {
    HubConfig config = valid_config();
    c.spoil(config);
    plexus::Status s = validate(config);
    ASSERT_FALSE(s.ok()) << c.name;
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << c.name;
    EXPECT_NE(s.message().find(c.name), std::string::npos) << c.name << ": " << s;
  }
  HubConfig zero = valid_config();
  zero.dsup_max_restarts = 0;  // as OTP's intensity 0: never restart
  EXPECT_TRUE(validate(zero).ok());
}

TEST(HubConfigTest, TheSignatureHasTheSegmentsAndEveryStrategyWithItsParameters) {
  HubConfig a = valid_config();
  EXPECT_EQ(signature(a),
            "segments=4096 distribution=consistent_hashing() redundancy=singularity() "
            "migration=cold_swap() partition=divergence() sync=pubsub()");
  HubConfig b = valid_config();
  b.distribution = std::make_shared<plexus::strategies::BoundedLoad>(
      *plexus::strategies::BoundedLoad::make(1.5));
  EXPECT_EQ(signature(b),
            "segments=4096 distribution=bounded_load(balance=1.5) redundancy=singularity() "
            "migration=cold_swap() partition=divergence() sync=pubsub()");
  HubConfig c = valid_config();
  c.segments = 1024;
  EXPECT_NE(signature(a), signature(c));
  HubConfig hot = valid_config();
  hot.migration = std::make_shared<plexus::strategies::HotSwap>();
  EXPECT_NE(signature(hot).find("migration=hot_swap()"), std::string::npos) << signature(hot);
  HubConfig majority = valid_config();
  majority.partition_tolerance = std::make_shared<plexus::strategies::MajorityQuorum>(
      *plexus::strategies::MajorityQuorum::make(3));
  EXPECT_NE(signature(majority).find(
                "partition=majority_quorum(initial_cluster_size=3,track_max_size=true)"),
            std::string::npos)
      << signature(majority);
  HubConfig gossip = valid_config();
  gossip.synchronization =
      std::make_shared<plexus::strategies::Gossip>(*plexus::strategies::Gossip::make(4));
  EXPECT_NE(signature(gossip).find("sync=gossip(fanout=4,ack_timeout_ms=2000,ttl_ms=15000)"),
            std::string::npos)
      << signature(gossip);
  HubConfig d = valid_config();
  d.hubs_discover_interval = std::chrono::milliseconds(300);  // a local setting
  d.hub_id = "rooms";
  EXPECT_EQ(signature(a), signature(d));
}

TEST(HubConfigTest, AQuorumStrategysFenceMarginMustOutlastACutOffMembersStop) {
  HubConfig c = valid_config();
  // Divergence fences nothing: any margin will do.
  c.fence_margin = std::chrono::milliseconds(1);
  EXPECT_TRUE(validate(c, std::chrono::seconds(60)).ok());
  c.partition_tolerance = std::make_shared<plexus::strategies::StaticQuorum>(
      *plexus::strategies::StaticQuorum::make(2));
  plexus::Status s = validate(c, std::chrono::seconds(60));
  ASSERT_EQ(s.code(), StatusCode::kInvalidArgument);
  // 15 s + 20 s + 200 ms + 2 s.
  EXPECT_NE(s.message().find("37200 ms"), std::string::npos) << s;
  c.fence_margin = HubConfig{}.fence_margin;  // the defaults fit together
  EXPECT_TRUE(validate(c, std::chrono::seconds(60)).ok());
  EXPECT_FALSE(validate(c, std::chrono::seconds(120)).ok());
}

}  // namespace
}  // namespace plexus_test

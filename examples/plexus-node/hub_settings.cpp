#include "hub_settings.h"

#include <cctype>
#include <charconv>
#include <fstream>
#include <functional>
#include <optional>
#include <vector>

#include "plexus/strategies/bounded_load.h"
#include "plexus/strategies/dynamic_quorum.h"
#include "plexus/strategies/guided.h"
#include "plexus/strategies/majority_quorum.h"
#include "plexus/strategies/migration.h"
#include "plexus/strategies/replication.h"
#include "plexus/strategies/singularity.h"
#include "plexus/strategies/static_quorum.h"
#include "plexus/strategies/synchronization.h"

namespace plexus_node {

namespace {

using plexus::Result;
using plexus::Status;
using plexus::StatusCode;
using plexus::hub::HubConfig;

Status bad(std::string message) { return Status(StatusCode::kInvalidArgument, std::move(message)); }

std::optional<long> number(const std::string& text) {
  long value = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

// A setting: how its value goes into a HubConfig.
using Setter = std::function<Status(HubConfig&, const std::string& value, const HubSettings&)>;

Status set_redundancy(HubConfig& c, const std::string& v, const HubSettings& all) {
  using plexus::strategies::Replication;
  if (v == "singularity") {
    for (const char* key : {"replicas", "replication-model", "redundancy-signal"}) {
      if (all.count(key)) return bad(std::string(key) + " needs replication");
    }
    c.redundancy = std::make_shared<plexus::strategies::Singularity>();
    return Status::OK();
  }
  if (v != "replication") return bad("'" + v + "' is not singularity or replication");
  int factor = 2;
  Replication::Model model = Replication::Model::kActiveActive;
  Replication::Signal signal = Replication::Signal::kNone;
  if (auto it = all.find("replicas"); it != all.end()) {
    std::optional<long> n = number(it->second);
    if (it->second == "cluster_size") {
      factor = Replication::kClusterSize;
    } else if (!n || *n < 1 || *n > 1024) {
      return bad("replicas: '" + it->second + "' is not 1 to 1024 or cluster_size");
    } else {
      factor = static_cast<int>(*n);
    }
  }
  if (auto it = all.find("replication-model"); it != all.end() && !parse(it->second, &model)) {
    return bad("replication-model: '" + it->second + "' is not active_active or active_passive");
  }
  if (auto it = all.find("redundancy-signal"); it != all.end() && !parse(it->second, &signal)) {
    return bad("redundancy-signal: '" + it->second + "' is not none, active, passive or all");
  }
  auto made = Replication::make(factor, model, signal);
  if (!made.ok()) return bad(made.status().message());
  c.redundancy = std::make_shared<Replication>(*made);
  return Status::OK();
}

// A setting read by another one's setter (`owner`), given without it (or
// with another value than those it is part of).
Setter part_of(std::string owner, std::vector<std::string> values) {
  return [owner, values](HubConfig&, const std::string&, const HubSettings& all) {
    auto it = all.find(owner);
    for (const std::string& v : values) {
      if (it != all.end() && it->second == v) return Status::OK();
    }
    std::string want;
    for (const std::string& v : values) want += (want.empty() ? "" : " or ") + v;
    return bad("needs --hub-" + owner + " " + want);
  };
}

std::optional<bool> boolean(const std::string& text) {
  if (text == "true") return true;
  if (text == "false") return false;
  return std::nullopt;
}

Status set_partition(HubConfig& c, const std::string& v, const HubSettings& all) {
  namespace s = plexus::strategies;
  auto get = [&](const char* key) -> const std::string* {
    auto it = all.find(key);
    return it == all.end() ? nullptr : &it->second;
  };
  if (v == "divergence") {
    c.partition_tolerance = std::make_shared<s::Divergence>();
    return Status::OK();
  }
  if (v == "static_quorum" || v == "dynamic_quorum") {
    const std::string* size = get("quorum-size");
    std::optional<long> n = size ? number(*size) : std::nullopt;
    if (!n || *n < 1) return bad(v + " needs --hub-quorum-size, a number of 1 or more");
    if (v == "static_quorum") {
      bool confirm = false;
      if (const std::string* text = get("startup-confirm")) {
        std::optional<bool> b = boolean(*text);
        if (!b) return bad("startup-confirm: '" + *text + "' is not true or false");
        confirm = *b;
      }
      auto made = s::StaticQuorum::make(static_cast<size_t>(*n), confirm);
      if (!made.ok()) return made.status();
      c.partition_tolerance = std::make_shared<s::StaticQuorum>(*made);
      return Status::OK();
    }
    std::chrono::milliseconds threshold = std::chrono::seconds(30);
    if (const std::string* text = get("threshold-ms")) {
      std::optional<long> ms = number(*text);
      if (!ms) return bad("threshold-ms: '" + *text + "' is not a number of milliseconds");
      threshold = std::chrono::milliseconds(*ms);
    }
    auto made = s::DynamicQuorum::make(static_cast<int>(std::min<long>(*n, 1000)), threshold);
    if (!made.ok()) return made.status();
    c.partition_tolerance = std::make_shared<s::DynamicQuorum>(*made);
    return Status::OK();
  }
  if (v == "majority_quorum") {
    long initial = 1;
    bool track = true;
    if (const std::string* text = get("initial-cluster-size")) {
      std::optional<long> n = number(*text);
      if (!n || *n < 1) return bad("initial-cluster-size: '" + *text + "' is not 1 or more");
      initial = *n;
    }
    if (const std::string* text = get("track-max-size")) {
      std::optional<bool> b = boolean(*text);
      if (!b) return bad("track-max-size: '" + *text + "' is not true or false");
      track = *b;
    }
    c.partition_tolerance = std::make_shared<s::MajorityQuorum>(
        *s::MajorityQuorum::make(static_cast<size_t>(initial), track));
    return Status::OK();
  }
  return bad("'" + v + "' is not divergence, static_quorum, dynamic_quorum or majority_quorum");
}

Status set_sync(HubConfig& c, const std::string& v, const HubSettings& all) {
  using plexus::strategies::Gossip;
  if (v == "pubsub") {
    c.synchronization = std::make_shared<plexus::strategies::PubSub>();
    return Status::OK();
  }
  if (v != "gossip") return bad("'" + v + "' is not pubsub or gossip");
  long fanout = 3, ack = 2000, ttl = 15000;
  for (auto [key, value] : {std::pair{"gossip-fanout", &fanout}, std::pair{"gossip-ack-ms", &ack},
                            std::pair{"gossip-ttl-ms", &ttl}}) {
    auto it = all.find(key);
    if (it == all.end()) continue;
    std::optional<long> n = number(it->second);
    if (!n || *n < 1) return bad(std::string(key) + ": '" + it->second + "' is not 1 or more");
    *value = *n;
  }
  auto made = Gossip::make(static_cast<size_t>(fanout), std::chrono::milliseconds(ack),
                           std::chrono::milliseconds(ttl));
  if (!made.ok()) return made.status();
  c.synchronization = std::make_shared<Gossip>(*made);
  return Status::OK();
}

Setter milliseconds(std::chrono::milliseconds HubConfig::*field) {
  return [field](HubConfig& c, const std::string& v, const HubSettings&) {
    std::optional<long> n = number(v);
    if (!n) return bad("'" + v + "' is not a number of milliseconds");
    c.*field = std::chrono::milliseconds(*n);
    return Status::OK();
  };
}

// A hub id as one path component: every byte but letters, digits, '-' and
// '_' as %XX, so that no id ("..", "a/b") names another directory.
std::string path_component(const std::string& id) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char ch : id) {
    if (std::isalnum(ch) || ch == '-' || ch == '_') {
      out += static_cast<char>(ch);
    } else {
      out += '%';
      out += kHex[ch >> 4];
      out += kHex[ch & 15];
    }
  }
  return out;
}

Status set_store(HubConfig& c, const std::string& v, const HubSettings& all) {
  if (v.empty()) return bad("'' is not a directory");
  c.store_path = (v.back() == '/' ? v : v + "/") + path_component(c.hub_id);
  if (auto it = all.find("store-sync"); it != all.end()) {
    std::optional<bool> sync = boolean(it->second);
    if (!sync) return bad("store-sync: '" + it->second + "' is not true or false");
    c.store_sync = *sync;
  }
  return Status::OK();
}

const std::map<std::string, Setter>& setters() {
  static const auto* table = new std::map<std::string, Setter>{
      {"distribution",
       [](HubConfig& c, const std::string& v, const HubSettings& all) -> Status {
         if (v == "consistent_hashing") {
           c.distribution = std::make_shared<plexus::strategies::ConsistentHashing>();
         } else if (v == "guided") {
           c.distribution = std::make_shared<plexus::strategies::Guided>();
         } else if (v == "bounded_load") {
           double balance = 1.25;
           if (auto it = all.find("balance"); it != all.end()) {
             try {
               size_t used = 0;
               balance = std::stod(it->second, &used);
               if (used != it->second.size()) throw std::invalid_argument("");
             } catch (const std::exception&) {
               return bad("balance: '" + it->second + "' is not a number");
             }
           }
           auto made = plexus::strategies::BoundedLoad::make(balance);
           if (!made.ok()) return bad("balance: " + made.status().message());
           c.distribution = std::make_shared<plexus::strategies::BoundedLoad>(*made);
         } else {
           return bad("'" + v + "' is not consistent_hashing, guided or bounded_load");
         }
         return Status::OK();
       }},
      {"balance", part_of("distribution", {"bounded_load"})},
      {"migration",
       [](HubConfig& c, const std::string& v, const HubSettings&) {
         if (v == "cold_swap") {
           c.migration = std::make_shared<plexus::strategies::ColdSwap>();
         } else if (v == "hot_swap") {
           c.migration = std::make_shared<plexus::strategies::HotSwap>();
         } else {
           return bad("'" + v + "' is not cold_swap or hot_swap");
         }
         return Status::OK();
       }},
      {"handover-buffer",
       [](HubConfig& c, const std::string& v, const HubSettings&) {
         std::optional<long> n = number(v);
         if (!n || *n < 1) return bad("'" + v + "' is not a message count of 1 or more");
         c.handover_buffer = static_cast<size_t>(*n);
         return Status::OK();
       }},
      {"partition", set_partition},
      {"quorum-size", part_of("partition", {"static_quorum", "dynamic_quorum"})},
      {"startup-confirm", part_of("partition", {"static_quorum"})},
      {"threshold-ms", part_of("partition", {"dynamic_quorum"})},
      {"initial-cluster-size", part_of("partition", {"majority_quorum"})},
      {"track-max-size", part_of("partition", {"majority_quorum"})},
      {"fence-margin-ms", milliseconds(&HubConfig::fence_margin)},
      {"partition-stop-ms", milliseconds(&HubConfig::partition_stop_timeout)},
      {"redundancy", set_redundancy},
      {"replicas", part_of("redundancy", {"replication"})},
      {"replication-model", part_of("redundancy", {"replication"})},
      {"redundancy-signal", part_of("redundancy", {"replication"})},
      {"segments",
       [](HubConfig& c, const std::string& v, const HubSettings&) {
         std::optional<long> n = number(v);
         if (!n || *n < 1 || *n > (1L << 20)) return bad("'" + v + "' is not a segment count");
         c.segments = static_cast<uint32_t>(*n);
         return Status::OK();
       }},
      {"store", set_store},
      {"store-sync",
       [](HubConfig&, const std::string&, const HubSettings& all) {
         return all.count("store") ? Status::OK() : bad("needs --hub-store");
       }},
      {"sync", set_sync},
      {"gossip-fanout", part_of("sync", {"gossip"})},
      {"gossip-ack-ms", part_of("sync", {"gossip"})},
      {"gossip-ttl-ms", part_of("sync", {"gossip"})},
      {"sync-ms", milliseconds(&HubConfig::sync_interval)},
      {"discover-ms", milliseconds(&HubConfig::hubs_discover_interval)},
      {"view-debounce-ms", milliseconds(&HubConfig::view_debounce)},
      {"partition-cut-ms", milliseconds(&HubConfig::partition_cut_delay)},
      {"tombstone-ms", milliseconds(&HubConfig::tombstone_ttl)},
      {"purge-ms", milliseconds(&HubConfig::storage_purge_interval)},
      {"migr-timeout-ms", milliseconds(&HubConfig::migr_base_timeout)},
      {"dsup-shutdown-ms", milliseconds(&HubConfig::dsup_shutdown_timeout)},
      {"dsup-max-restarts",
       [](HubConfig& c, const std::string& v, const HubSettings&) {
         std::optional<long> n = number(v);
         if (!n) return bad("'" + v + "' is not a number");
         c.dsup_max_restarts = static_cast<int>(*n);
         return Status::OK();
       }},
      {"dsup-max-seconds",
       [](HubConfig& c, const std::string& v, const HubSettings&) {
         std::optional<long> n = number(v);
         if (!n) return bad("'" + v + "' is not a number of seconds");
         c.dsup_max_seconds = std::chrono::seconds(*n);
         return Status::OK();
       }},
  };
  return *table;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  size_t e = s.find_last_not_of(" \t\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

}  // namespace

const char* hub_settings_usage() {
  return "  --hub ID                host hub ID (repeat for more hubs)\n"
         "  --hub-config FILE       hub settings, one \"KEY = VALUE\" per line\n"
         "  --hub-KEY VALUE         one setting (wins over the file); KEY is one of\n"
         "      distribution        consistent_hashing (default), guided or bounded_load\n"
         "      balance             bounded_load's factor, above 1 (1.25)\n"
         "      redundancy          singularity (default) or replication\n"
         "      replicas            replication's copies: 1 to 1024 or cluster_size (2)\n"
         "      replication-model   active_active (default) or active_passive\n"
         "      redundancy-signal   none (default), active, passive or all\n"
         "      migration           cold_swap (default) or hot_swap: a moving child\n"
         "                          hands its state over (and so does a drain)\n"
         "      handover-buffer     messages held per moving child (10000)\n"
         "      partition           divergence (default), static_quorum, dynamic_quorum\n"
         "                          or majority_quorum: without quorum a node stops\n"
         "                          its children\n"
         "      quorum-size         static_quorum's members, dynamic_quorum's percent\n"
         "      startup-confirm     static_quorum: true to count at start (false)\n"
         "      threshold-ms        dynamic_quorum's threshold_time (30000)\n"
         "      initial-cluster-size  majority_quorum's (1)\n"
         "      track-max-size      majority_quorum: grow with joins (true)\n"
         "      fence-margin-ms     with a quorum: how long a lost node's children wait\n"
         "                          before they start elsewhere (40000); longer than\n"
         "                          tick/4 + partition-cut-ms + view-debounce-ms +\n"
         "                          partition-stop-ms\n"
         "      partition-stop-ms   with a quorum: each child's time to stop (2000)\n"
         "      segments            a power of two (4096)\n"
         "      sync                pubsub (default: each change from its decider to\n"
         "                          every member) or gossip (a tree, for large clusters)\n"
         "      gossip-fanout       gossip: members each holder sends a change to (3)\n"
         "      gossip-ack-ms       gossip: resend a part after this without an ack (2000)\n"
         "      gossip-ttl-ms       gossip: how long a change is remembered (15000)\n"
         "      sync-ms             anti-entropy interval (15000)\n"
         "      store               a directory: each hub keeps the children this node\n"
         "                          runs in DIR/<hub id>, a RocksDB store, and a restart\n"
         "                          of every node brings them back (none by default)\n"
         "      store-sync          store: true to fsync every write (false)\n"
         "      discover-ms         hubs_discover_interval (10000)\n"
         "      view-debounce-ms    quiet time before a new view (200)\n"
         "      partition-cut-ms    how long a non-transitive partition stands before\n"
         "                          the hub cuts it into clean groups (20000)\n"
         "      tombstone-ms        how long a stopped child's tombstone stays (300000)\n"
         "      purge-ms            storage_purge_interval (15000)\n"
         "      migr-timeout-ms     migr_base_timeout (15000)\n"
         "      dsup-max-restarts   restarts of one child ... (100)\n"
         "      dsup-max-seconds    ... within this many seconds (4)\n"
         "      dsup-shutdown-ms    dsup_shutdown_timeout (60000)\n";
}

bool is_hub_setting(const std::string& key) { return setters().count(key) > 0; }

std::vector<std::string> hub_setting_keys() {
  std::vector<std::string> keys;
  for (const auto& [key, setter] : setters()) keys.push_back(key);
  return keys;
}

Status read_hub_config(const std::string& path, HubSettings* settings) {
  std::ifstream in(path);
  if (!in) return bad("cannot read " + path);
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    if (trim(line).empty()) continue;
    size_t eq = line.find('=');
    std::string where = path + ":" + std::to_string(n) + ": ";
    if (eq == std::string::npos) return bad(where + "not KEY = VALUE");
    std::string key = trim(line.substr(0, eq));
    if (!is_hub_setting(key)) return bad(where + "unknown setting '" + key + "'");
    settings->emplace(key, trim(line.substr(eq + 1)));
  }
  return Status::OK();
}

Result<HubConfig> hub_config(const std::string& id, const HubSettings& settings) {
  HubConfig config;
  config.hub_id = id;
  for (const auto& [key, value] : settings) {
    auto it = setters().find(key);
    if (it == setters().end()) return bad("unknown hub setting '" + key + "'");
    if (Status s = it->second(config, value, settings); !s.ok()) {
      return bad("--hub-" + key + ": " + s.message());
    }
  }
  if (Status s = plexus::hub::validate(config); !s.ok()) return s;
  return config;
}

}  // namespace plexus_node

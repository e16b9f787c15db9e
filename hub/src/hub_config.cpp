#include "plexus/hub/hub_config.h"

#include <algorithm>
#include <set>

namespace plexus::hub {

namespace {

constexpr size_t kMaxHubIdLength = 255;

Status invalid(const std::string& what) { return Status(StatusCode::kInvalidArgument, what); }

template <class Duration>
Status positive(const char* name, Duration d) {
  if (d.count() > 0) return Status::OK();
  return invalid(std::string(name) + " must be positive, not " + std::to_string(d.count()));
}

// Printable ASCII without spaces: a hub id travels in hub messages, log
// lines and plexusctl arguments.
bool valid_hub_id(const std::string& id) {
  return !id.empty() && id.size() <= kMaxHubIdLength &&
         std::all_of(id.begin(), id.end(), [](char c) { return c > ' ' && c < 127; });
}

}  // namespace

Status validate(const HubConfig& config) {
  if (!valid_hub_id(config.hub_id)) {
    return invalid("hub_id must be 1 to 255 printable characters without spaces, not '" +
                   config.hub_id + "'");
  }
  if (!config.distribution) return invalid("distribution must be set");
  if (!config.redundancy) return invalid("redundancy must be set");
  if (!config.migration) return invalid("migration must be set");
  if (!config.partition_tolerance) return invalid("partition_tolerance must be set");
  if (!config.synchronization) return invalid("synchronization must be set");
  if (config.handover_buffer == 0) return invalid("handover_buffer must be 1 or more");
  if (Result<strategies::Segments> s = strategies::Segments::make(config.segments); !s.ok()) {
    return s.status();
  }
  for (auto [name, d] : {std::pair{"hubs_discover_interval", config.hubs_discover_interval},
                         std::pair{"storage_purge_interval", config.storage_purge_interval},
                         std::pair{"tombstone_ttl", config.tombstone_ttl},
                         std::pair{"sync_interval", config.sync_interval},
                         std::pair{"view_debounce", config.view_debounce},
                         std::pair{"partition_cut_delay", config.partition_cut_delay},
                         std::pair{"migr_base_timeout", config.migr_base_timeout},
                         std::pair{"partition_stop_timeout", config.partition_stop_timeout},
                         std::pair{"fence_margin", config.fence_margin},
                         std::pair{"dsup_shutdown_timeout", config.dsup_shutdown_timeout}}) {
    if (Status s = positive(name, d); !s.ok()) return s;
  }
  if (Status s = positive("dsup_max_seconds", config.dsup_max_seconds); !s.ok()) return s;
  if (config.dsup_max_restarts < 0) {
    return invalid("dsup_max_restarts must be 0 or more, not " +
                   std::to_string(config.dsup_max_restarts));
  }
  std::set<std::string_view> ids;
  for (const ChildSpec& spec : config.child_specs) {
    if (spec.id.empty()) return invalid("child_specs: a child has an empty id");
    if (spec.type.empty()) return invalid("child_specs: child " + spec.id + " has no type");
    if (spec.shutdown.count() < 0) {
      return invalid("child_specs: child " + spec.id + " has a negative shutdown timeout");
    }
    if (!ids.insert(spec.id).second) return invalid("child_specs: child " + spec.id + " is twice");
  }
  return Status::OK();
}

Status validate(const HubConfig& config, std::chrono::milliseconds tick_timeout) {
  if (Status s = validate(config); !s.ok()) return s;
  if (!config.partition_tolerance->uses_quorum()) return Status::OK();
  std::chrono::milliseconds stop = tick_timeout / 4 + config.partition_cut_delay +
                                   config.view_debounce + config.partition_stop_timeout;
  if (config.fence_margin > stop) return Status::OK();
  return invalid("fence_margin (" + std::to_string(config.fence_margin.count()) +
                 " ms) must be longer than a cut-off member takes to stop its children: " +
                 "tick_timeout / 4 + partition_cut_delay + view_debounce + " +
                 "partition_stop_timeout = " + std::to_string(stop.count()) + " ms");
}

std::string signature(const HubConfig& config) {
  auto of = [](const auto& strategy) { return strategy ? describe(*strategy) : std::string("?"); };
  return "segments=" + std::to_string(config.segments) +
         " distribution=" + of(config.distribution) + " redundancy=" + of(config.redundancy) +
         " migration=" + of(config.migration) + " partition=" + of(config.partition_tolerance) +
         " sync=" + of(config.synchronization) +
         (config.store_path.empty() ? "" : " store=durable");
}

}  // namespace plexus::hub

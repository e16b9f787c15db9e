#include "plexus/zen/options.h"

#include <string>

namespace plexus::zen {

namespace {

Status invalid(const std::string& what) {
  return Status(StatusCode::kInvalidArgument, "zen monitor option " + what);
}

}  // namespace

Status Options::validate() const {
  struct Interval {
    const char* name;
    std::chrono::milliseconds value;
  };
  for (const Interval& i :
       {Interval{"connector_sweep_interval", connector_sweep_interval},
        Interval{"batcher_sweep_interval", batcher_sweep_interval},
        Interval{"demand_interval", demand_interval}, Interval{"ping_timeout", ping_timeout},
        Interval{"incompatible_backoff", incompatible_backoff}}) {
    if (i.value.count() <= 0) return invalid(std::string(i.name) + " must be positive");
  }
  if (max_incompatible_backoff < incompatible_backoff) {
    return invalid("max_incompatible_backoff must be at least incompatible_backoff");
  }
  if (connector_chunk_size == 0) return invalid("connector_chunk_size must be at least 1");
  if (batcher_chunk_size == 0) return invalid("batcher_chunk_size must be at least 1");
  if (demand_amount == 0) return invalid("demand_amount must be at least 1");
  if (max_binary_size < 4) return invalid("max_binary_size must be at least 4");
  if (truncation_depth < 1) return invalid("truncation_depth must be at least 1");
  return Status::OK();
}

}  // namespace plexus::zen

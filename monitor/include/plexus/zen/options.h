// The zen monitor's settings.
#pragma once

#include <chrono>
#include <cstddef>

#include "plexus/status.h"

namespace plexus::zen {

// Settings of one node's zen monitor, fixed at start (the demand can be
// changed later with ZenMonitor::set_demand). The defaults are ZenMonitor's.
struct Options {
  // A Connector sends its queued subscribe/unsubscribe instructions to the
  // remote Proxy every interval, at most `connector_chunk_size` at a time.
  std::chrono::milliseconds connector_sweep_interval{100};
  size_t connector_chunk_size = 5000;
  // A Batcher sends the deaths it collected back every interval, at most
  // `batcher_chunk_size` at a time.
  std::chrono::milliseconds batcher_sweep_interval{100};
  size_t batcher_chunk_size = 5000;
  // The Dispatcher delivers at most `demand_amount` Downs per
  // `demand_interval` (10,000 a second by default), however many are due.
  std::chrono::milliseconds demand_interval{100};
  size_t demand_amount = 1000;
  // How long a Connector waits for the remote Proxy to answer its ping before
  // it counts the node as one without a zen monitor (and monitors there with
  // plain remote monitors).
  std::chrono::milliseconds ping_timeout{5000};
  // After a failed ping, the next one waits `incompatible_backoff`, doubled at
  // each failure up to `max_incompatible_backoff`.
  std::chrono::milliseconds incompatible_backoff{2000};
  std::chrono::milliseconds max_incompatible_backoff{60'000};
  // Reasons that cross nodes are truncated (see truncate.h).
  size_t max_binary_size = 1024;
  int truncation_depth = 3;

  // kInvalidArgument naming the first setting out of range: intervals and
  // timeouts must be positive, sizes and amounts at least 1, max_binary_size
  // at least 4 (room for "..."), truncation_depth at least 1.
  Status validate() const;
};

}  // namespace plexus::zen

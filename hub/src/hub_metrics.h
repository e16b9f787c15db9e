// What a hub reports in its runtime's metrics (plexus/metrics.h).
#pragma once

#include "hub_state.h"
#include "plexus/metrics.h"

namespace plexus::hub::detail {

// Writes the hub's gauges and counters, labelled hub="<hub_id>". Any thread.
void write_metrics(const HubState& state, MetricsWriter& out);

}  // namespace plexus::hub::detail

// The dashboard's static files (examples/plexus-node/dashboard/), compiled
// into plexus-node by CMake: no build step, nothing to install beside it.
#pragma once

#include <string_view>
#include <vector>

namespace plexus_node {

struct DashboardAsset {
  std::string_view path;  // "/index.html"
  std::string_view body;
};

const std::vector<DashboardAsset>& dashboard_assets();

}  // namespace plexus_node

// Node names: "name@host:port".
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "plexus/status.h"

namespace plexus::detail {

struct NodeAddress {
  std::string base;  // before '@'
  std::string host;
  uint16_t port = 0;

  std::string name() const { return base + "@" + host + ":" + std::to_string(port); }
};

// Parses "name@host:port": a non-empty name of letters, digits, '_', '-' and
// '.', a non-empty host, and a port 0-65535 (0 only where `allow_port_zero`).
Result<NodeAddress> parse_node_name(std::string_view name, bool allow_port_zero = false);

}  // namespace plexus::detail

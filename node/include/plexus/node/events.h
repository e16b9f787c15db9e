// NodeUp and NodeDown: what subscribers and node watchers are told.
#pragma once

#include <string>

namespace plexus {

// Delivered to subscribers (Node::subscribe) when a connection to a node
// comes up.
struct NodeUp {
  std::string node;
};

// Delivered to subscribers and monitor_node watchers when a node is lost.
struct NodeDown {
  std::string node;
  std::string reason;  // "connection closed", "tick timeout", "connect failed: ...", ...
};

}  // namespace plexus

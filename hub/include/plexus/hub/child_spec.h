// ChildSpec: what a hub child is, the same on every node.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <string>

#include "plexus/supervisor.h"

namespace plexus::hub {

// A child's metadata, synced with it; the value of "tag" is what tag_query
// finds it by.
using Metadata = std::map<std::string, std::string, std::less<>>;

inline constexpr std::string_view kTagKey = "tag";

struct ChildSpec {
  std::string id;         // unique in the hub's cluster
  std::string type;       // a worker type registered on every node
  std::string init_args;  // a serialized protobuf the worker starts from
  Restart restart = Restart::kPermanent;
  std::chrono::milliseconds shutdown{5000};  // then kill
  Metadata metadata;
};

}  // namespace plexus::hub

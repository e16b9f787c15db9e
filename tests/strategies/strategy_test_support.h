// Views and ids for the strategy tests.
#pragma once

#include <string>
#include <vector>

#include "plexus/strategies/view.h"

namespace plexus_test {

// Members "n0@h:1" .. "n<count-1>@h:1", creation 1.
inline plexus::strategies::View view_of(int count, uint64_t number = 1) {
  std::vector<plexus::strategies::Member> members;
  for (int i = 0; i < count; ++i) members.push_back({"n" + std::to_string(i) + "@h:1", 1});
  return plexus::strategies::View(number, std::move(members));
}

// "child0" .. "child<count-1>".
inline std::vector<std::string> child_ids(int count) {
  std::vector<std::string> ids;
  ids.reserve(count);
  for (int i = 0; i < count; ++i) ids.push_back("child" + std::to_string(i));
  return ids;
}

}  // namespace plexus_test

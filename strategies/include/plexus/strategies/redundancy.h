// Redundancy: how many copies of each hub child run.
#pragma once

#include <string>
#include <string_view>

#include "plexus/strategies/view.h"

namespace plexus::strategies {

// The replication factor for a view, compared by name and parameters when
// members join. Pure, as every strategy.
class Redundancy {
 public:
  virtual ~Redundancy() = default;
  virtual std::string_view name() const = 0;
  virtual std::string parameters() const = 0;
  // How many members each child runs on in `view` (at least 1; the hub
  // places min(factor, members)).
  virtual int replication_factor(const View& view) const = 0;
};

// "name(parameters)": what a member compares with its peers'.
std::string describe(const Redundancy& redundancy);

}  // namespace plexus::strategies

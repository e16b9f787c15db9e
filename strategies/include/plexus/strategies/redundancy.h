// Redundancy: how many copies of each hub child run, and which are active.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "plexus/strategies/view.h"

namespace plexus::strategies {

// The replication factor for a view, compared by name and parameters when
// members join. Pure, as every strategy.
class Redundancy {
 public:
  // Which of a child's copies do the work.
  enum class Model {
    kActiveActive,   // every copy
    kActivePassive,  // the first (its record's first pid); the others stand by
  };
  // Which copies are told their mode (a RedundancySignal message, on start
  // and whenever it changes).
  enum class Signal { kNone, kActive, kPassive, kAll };
  enum class Mode { kActive, kPassive };

  virtual ~Redundancy() = default;
  virtual std::string_view name() const = 0;
  virtual std::string parameters() const = 0;
  // How many members each child runs on in `view` (at least 1; the hub
  // places min(factor, members)).
  virtual int replication_factor(const View& view) const = 0;
  virtual Model model() const { return Model::kActiveActive; }
  virtual Signal signal() const { return Signal::kNone; }

  // The mode of the copy at `index` of a child's placement (0: the first).
  Mode mode(size_t index) const {
    return model() == Model::kActiveActive || index == 0 ? Mode::kActive : Mode::kPassive;
  }
  // True if a copy in `mode` is to be told so.
  bool signals(Mode mode) const {
    Signal s = signal();
    return s == Signal::kAll || (s == Signal::kActive && mode == Mode::kActive) ||
           (s == Signal::kPassive && mode == Mode::kPassive);
  }
};

// "name(parameters)": what a member compares with its peers'.
std::string describe(const Redundancy& redundancy);

}  // namespace plexus::strategies

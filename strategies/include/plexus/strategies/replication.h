// Replication: N copies of each hub child, all active or one active and the
// others passive (ProcessHub's Redundancy.Replication).
#pragma once

#include <string>
#include <string_view>

#include "plexus/status.h"
#include "plexus/strategies/redundancy.h"

namespace plexus::strategies {

// A child runs on the first min(factor, members) nodes its distribution
// names. With kActivePassive the first of them (the first pid of its record
// on every node) is active and the others passive; with kActiveActive all
// are active. kClusterSize counts the hub's members, not every connected
// node (ProcessHub counts every BEAM node).
class Replication final : public Redundancy {
 public:
  static constexpr int kClusterSize = 0;

  // `factor` is kClusterSize or 1 to 1024; anything else is kInvalidArgument.
  static Result<Replication> make(int factor = 2, Model model = Model::kActiveActive,
                                  Signal signal = Signal::kNone);

  int factor() const { return factor_; }

  std::string_view name() const override { return "replication"; }
  // "factor=2,model=active_passive,signal=all" (factor=cluster_size).
  std::string parameters() const override;
  int replication_factor(const View& view) const override;
  Model model() const override { return model_; }
  Signal signal() const override { return signal_; }

 private:
  Replication(int factor, Model model, Signal signal)
      : factor_(factor), model_(model), signal_(signal) {}
  int factor_;
  Model model_;
  Signal signal_;
};

// "active_active" / "active_passive"; "none", "active", "passive", "all".
std::string_view name_of(Redundancy::Model model);
std::string_view name_of(Redundancy::Signal signal);
// The reverse: false if `text` names none.
bool parse(std::string_view text, Redundancy::Model* model);
bool parse(std::string_view text, Redundancy::Signal* signal);

}  // namespace plexus::strategies

#include "plexus/strategies/replication.h"

#include <algorithm>

namespace plexus::strategies {

namespace {
constexpr int kMaxFactor = 1024;
}  // namespace

Result<Replication> Replication::make(int factor, Model model, Signal signal) {
  if (factor != kClusterSize && (factor < 1 || factor > kMaxFactor)) {
    return Status(
        StatusCode::kInvalidArgument,
        "replication factor must be 1 to 1024 or cluster_size, not " + std::to_string(factor));
  }
  return Replication(factor, model, signal);
}

std::string Replication::parameters() const {
  std::string factor = factor_ == kClusterSize ? "cluster_size" : std::to_string(factor_);
  return "factor=" + factor + ",model=" + std::string(name_of(model_)) +
         ",signal=" + std::string(name_of(signal_));
}

int Replication::replication_factor(const View& view) const {
  return factor_ == kClusterSize ? std::max<int>(1, static_cast<int>(view.size())) : factor_;
}

std::string_view name_of(Redundancy::Model model) {
  return model == Redundancy::Model::kActiveActive ? "active_active" : "active_passive";
}

std::string_view name_of(Redundancy::Signal signal) {
  switch (signal) {
    case Redundancy::Signal::kNone:
      return "none";
    case Redundancy::Signal::kActive:
      return "active";
    case Redundancy::Signal::kPassive:
      return "passive";
    case Redundancy::Signal::kAll:
      return "all";
  }
  return "none";
}

bool parse(std::string_view text, Redundancy::Model* model) {
  for (Redundancy::Model m :
       {Redundancy::Model::kActiveActive, Redundancy::Model::kActivePassive}) {
    if (text == name_of(m)) {
      *model = m;
      return true;
    }
  }
  return false;
}

bool parse(std::string_view text, Redundancy::Signal* signal) {
  for (Redundancy::Signal s : {Redundancy::Signal::kNone, Redundancy::Signal::kActive,
                               Redundancy::Signal::kPassive, Redundancy::Signal::kAll}) {
    if (text == name_of(s)) {
      *signal = s;
      return true;
    }
  }
  return false;
}

}  // namespace plexus::strategies

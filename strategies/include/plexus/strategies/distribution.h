// Distribution: the policy that says on which nodes a hub child runs.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/status.h"
#include "plexus/strategies/view.h"

namespace plexus::strategies {

// A start call's explicit placement (the guided strategy's child_mapping):
// child id -> nodes, the first the primary.
using ChildMapping = std::map<std::string, std::vector<std::string>, std::less<>>;

// How many children each member holds, by node name (bounded_load reads it).
using NodeLoads = std::map<std::string, uint64_t, std::less<>>;

// Everything a placement is computed from; a strategy reads nothing else.
struct PlacementInput {
  std::string_view child_id;
  uint32_t segment = 0;  // Segments::of(child_id)
  int replicas = 1;      // the redundancy strategy's factor for the view
  const View* view = nullptr;
  // The nodes in the child's record, for a strategy that records its
  // placement (records_placement()); empty for a child not placed yet.
  const std::vector<std::string>* recorded = nullptr;
  const NodeLoads* loads = nullptr;       // null: every member holds none
  const ChildMapping* mapping = nullptr;  // the start call's, or null
};

// Places hub children on the members of a view. Implementations are pure:
// the same input gives the same nodes on every node and every run, and they
// keep no state between calls (the hub may call them from any thread).
class Distribution {
 public:
  virtual ~Distribution() = default;

  // The name and the canonical text of the parameters, which members
  // compare when they join: "consistent_hashing", "".
  virtual std::string_view name() const = 0;
  virtual std::string parameters() const = 0;

  // True if the placement depends on more than the id and the view (a
  // mapping, the loads at the start): the hub then writes the nodes place()
  // gives into the child's record, and passes them back as `recorded`.
  virtual bool records_placement() const = 0;

  // True if place() reads `loads`: the hub then keeps each member's count
  // of children for it. By default false.
  virtual bool reads_loads() const { return false; }

  // Checks a start call for `ids` before anything starts; an error stops
  // the whole call. By default any call is fine.
  virtual Status check_start(const std::vector<std::string>& ids, const ChildMapping* mapping,
                             int replicas, const View& view) const;

  // The nodes the child belongs on, the first its primary: at most
  // `replicas`, all of them members of the view, none twice. Empty when the
  // strategy names no live member (a guided child whose nodes are all gone).
  virtual std::vector<std::string> place(const PlacementInput& input) const = 0;
};

// "name(parameters)": what a member compares with its peers'.
std::string describe(const Distribution& distribution);

}  // namespace plexus::strategies

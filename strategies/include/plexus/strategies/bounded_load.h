// BoundedLoad: consistent hashing that skips members already holding more
// than their share, for a child's first placement (no ProcessHub strategy
// has one; docs/hub.md).
#pragma once

#include "plexus/strategies/distribution.h"

namespace plexus::strategies {

// A new child goes to the first members of its segment's rendezvous order
// whose load is under ceil(balance * (total + 1) / members), as in
// "consistent hashing with bounded loads" (Mirrokni, Thorup, Zadimoghaddam,
// 2018): no member ever holds more than `balance` times the mean, and a
// child still lands where plain consistent hashing puts it whenever that
// member has room. The loads differ from node to node while starts are in
// flight, so the placement is decided once (by the segment's owner) and
// recorded with the child. A recorded node stays as long as it is a member;
// a child that lost its nodes is placed again the same way.
class BoundedLoad final : public Distribution {
 public:
  // `balance` must be above 1 (make() refuses anything else).
  static Result<BoundedLoad> make(double balance = 1.25);

  double balance() const { return balance_; }

  std::string_view name() const override { return "bounded_load"; }
  std::string parameters() const override;  // "balance=1.25"
  bool records_placement() const override { return true; }
  bool reads_loads() const override { return true; }
  std::vector<std::string> place(const PlacementInput& input) const override;

 private:
  explicit BoundedLoad(double balance) : balance_(balance) {}
  double balance_;
};

}  // namespace plexus::strategies

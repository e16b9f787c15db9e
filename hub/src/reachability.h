// Which hub members a node keeps, when its connections do not form a clique:
// a state machine with no I/O and no clock.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "plexus/strategies/view.h"

namespace plexus::hub::detail {

// What a member tells the members it reaches: the members it reaches itself
// and the group it computes from what it knows (names), numbered so that a
// late copy does not undo a newer one.
struct ReachReport {
  strategies::Member from;
  uint64_t version = 0;
  std::set<std::string> reaches;
  std::set<std::string> group;
};

// A partition need not be transitive: with a-b and b-c up and a-c down, b
// reaches both sides. Left alone, b would sit in a's view while c, whose
// claimant is b, keeps a view that names a: a node between two sides that
// each count it in. Erlang's `global` (OTP 25, prevent_overlapping_partitions)
// ends this by disconnecting nodes until every group is fully connected; the
// hub does the same at its own level, without touching the node's
// connections (other hubs and plain messages keep them):
//
//   each member                             every member it reaches
//   set_own(reached), receive(report)
//   take_report() -> a changed report  --->  receive(report)
//   kept(): the members it keeps (the others are cut, for this hub only)
//
// From its own links and its neighbours' reports a node knows the links
// among the members within two hops: u-v is up unless the report of u or of
// v is known and leaves the other out. It cuts its component into groups:
// taking the members of its view first and then the others, each by name,
// each member joins the first group all of whose members it reaches; this
// node's group is the one it computes. Then it keeps only the members whose
// own report's group names it, so membership is mutual. With one link down
// (a-c) every node knows both ends' reports or trusts the one it cannot
// know, and the view {a, b, c} they shared orders them alike: {a, b} and
// {c}. Taking the view first keeps a group together while a node joins: a
// joiner with a small name that some members do not reach yet comes last,
// and does not split the others. A full mesh is one group: nothing changes
// where nothing is wrong. (Over random graphs, the test checks that members
// who keep each other keep the same set, in which every pair is linked.)
//
// Threads: the hub's server process only.
class Reachability {
 public:
  explicit Reachability(strategies::Member self);

  const strategies::Member& self() const { return self_; }
  // Sets the members this node reaches (itself left out): true if that
  // changed.
  bool set_own(std::set<std::string> reached);
  // A neighbour's report: true if it was kept (the first of its
  // incarnation, or newer than the one held).
  bool receive(const ReachReport& report);
  // Forgets the report of `node` (gone: not a neighbour now).
  bool forget(const std::string& node);
  // The members of this node's view, whom the cut takes first (at first,
  // this node alone).
  void set_first(std::set<std::string> members);

  // Makes this node's report anew: true if it differs from the last one
  // (its version is then one higher), to send to every member it reaches.
  bool take_report();
  // The report take_report made last (to send; also to a member met again).
  const ReachReport& last_report() const { return sent_; }

  // This node's group as it computes it, itself included.
  const std::set<std::string>& computed() const;
  // The members it keeps, itself included: those of computed() whose
  // report's group names this node. Each is one it reaches.
  std::set<std::string> kept() const;

 private:
  std::set<std::string> compute() const;
  // True if this node and its neighbours all reach each other and no one
  // else (the usual case, cut in one group without the n^2 link checks).
  bool in_a_clique() const;
  // False if the known report of u or of v leaves the other out.
  bool linked(const std::string& u, const std::string& v) const;
  // A neighbour's report (or this node's own), or null.
  const ReachReport* report_of(const std::string& node) const;

  strategies::Member self_;
  std::set<std::string> reaches_;
  std::set<std::string> first_;
  ReachReport sent_;
  std::map<std::string, ReachReport> reports_;  // the neighbours', by node
  // computed(), until an input changes: a hundred members take about n^2
  // link checks to cut, and each report that comes asks for it.
  mutable std::optional<std::set<std::string>> computed_;
};

}  // namespace plexus::hub::detail

// Synchronization: how the records a decider commits reach the other
// members of the hub.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "plexus/status.h"

namespace plexus::strategies {

// A change (the records one decider commits in one turn) starts at its
// decider, which is to reach every other member of its view. A member that
// has a change and members to pass it on to cuts them into parts
// (split): it sends the change to the first member of each part, which
// passes it on to the rest of its part in the same way. Compared by name
// and parameters when members join. Pure, as every strategy: the hub sends,
// acknowledges, times out and re-sends (docs/hub.md, "Sync").
class Synchronization {
 public:
  virtual ~Synchronization() = default;
  virtual std::string_view name() const = 0;
  virtual std::string parameters() const { return ""; }

  // `to` cut into the parts a member sends, each non-empty, together
  // holding every member of `to` once. `seed` (the change's) varies the
  // cut from change to change, the same on every machine.
  virtual std::vector<std::vector<std::string>> split(std::vector<std::string> to,
                                                      uint64_t seed) const = 0;
  // True if each receiver acknowledges a change to its sender, which sends
  // the part again (to its next member) when no acknowledgement comes
  // within ack_timeout or the receiver is lost: a lost message would lose
  // a whole part. False: a lost change waits for anti-entropy.
  virtual bool acknowledged() const { return false; }
  virtual std::chrono::milliseconds ack_timeout() const { return std::chrono::milliseconds(0); }
  // How long a member remembers a change it had, to drop the copies that
  // reach it again (re-sends) unapplied and not passed on.
  virtual std::chrono::milliseconds ttl() const { return std::chrono::milliseconds(0); }
};

// Each change is sent by its decider to every other member, once
// (ProcessHub's PubSub, the default): one hop, and its decider sends
// members - 1 messages per change.
class PubSub final : public Synchronization {
 public:
  std::string_view name() const override { return "pubsub"; }
  // One part per member.
  std::vector<std::vector<std::string>> split(std::vector<std::string> to,
                                              uint64_t seed) const override;
};

// Each holder of a change sends it to at most `fanout` members, each of
// which passes it on to its share of the rest (ProcessHub's Gossip, whose
// `recipients` is the fanout). A change reaches every member once, in
// about log_fanout(members) hops, in members - 1 messages, and no member
// sends more than `fanout` per change: for large clusters, where a
// decider's broadcast to every member costs it the most.
class Gossip final : public Synchronization {
 public:
  // fanout at least 1; ack_timeout and ttl above 0, ttl at least
  // ack_timeout (kInvalidArgument otherwise).
  static Result<Gossip> make(size_t fanout = 3,
                             std::chrono::milliseconds ack_timeout = std::chrono::seconds(2),
                             std::chrono::milliseconds ttl = std::chrono::seconds(15));

  size_t fanout() const { return fanout_; }

  std::string_view name() const override { return "gossip"; }
  std::string parameters() const override;  // "fanout=3,ack_timeout_ms=2000,ttl_ms=15000"
  // `to`, ordered by a hash of each name with `seed`, cut into fanout parts
  // of sizes that differ by one at most.
  std::vector<std::vector<std::string>> split(std::vector<std::string> to,
                                              uint64_t seed) const override;
  bool acknowledged() const override { return true; }
  std::chrono::milliseconds ack_timeout() const override { return ack_timeout_; }
  std::chrono::milliseconds ttl() const override { return ttl_; }

 private:
  Gossip(size_t fanout, std::chrono::milliseconds ack_timeout, std::chrono::milliseconds ttl)
      : fanout_(fanout), ack_timeout_(ack_timeout), ttl_(ttl) {}
  size_t fanout_;
  std::chrono::milliseconds ack_timeout_;
  std::chrono::milliseconds ttl_;
};

// "name(parameters)": what a member compares with its peers'.
std::string describe(const Synchronization& synchronization);

}  // namespace plexus::strategies

// GossipRelay: one member's part in passing committed records on, as the
// hub's synchronization strategy cuts their way (strategies::Gossip's tree;
// strategies::PubSub's one hop, where it only cuts).
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "plexus/hub.pb.h"
#include "plexus/strategies/synchronization.h"

namespace plexus::hub::detail {

// A change (RecordsDelta: its records, its origin and serial) goes from
// its decider to the first member of each part the strategy cuts the other
// members into; each passes it on to the rest of its part the same way:
//
//   decider D                    member A (first of a part)     member B
//   originate: split(others)
//   RecordsDelta{pass_to: A's} -->
//              <------ GossipAck  receive: new? then
//                                 split(pass_to):
//                                 RecordsDelta{pass_to: B's} --->
//                                 and apply      <-------------- GossipAck
//   no ack within ack_timeout, or A lost:
//   due() / gone(): the part again, to its next member (A put last if
//   still a member). A copy a member has seen within ttl is acked, not
//   applied and not passed on.
//
// No I/O and no clock: the hub sends what it returns, applies what
// receive() says is new, and brings the time. Used on the HubServer's
// thread only.
class GossipRelay {
 public:
  struct Send {
    std::string to;
    std::shared_ptr<const RecordsDelta> change;  // pass_to and from not set
    std::vector<std::string> pass_to;
  };
  using IsMember = std::function<bool(const std::string&)>;

  explicit GossipRelay(const strategies::Synchronization& sync) : sync_(sync) {}

  // A change this member's decider made, to reach `to`: the sends, each
  // remembered until acknowledged.
  std::vector<Send> originate(std::shared_ptr<const RecordsDelta> change,
                              std::vector<std::string> to, int64_t now_ms);
  // A change from a peer, to pass on to `pass_to`: true (and its sends in
  // `sends`) if this member had not seen it within ttl; false if it had.
  // A strategy with no ttl (pubsub) remembers nothing: always true.
  bool receive(std::shared_ptr<const RecordsDelta> change, std::vector<std::string> pass_to,
               int64_t now_ms, std::vector<Send>* sends);
  // `from` acknowledged `change`.
  void acked(const GossipAck& ack);
  // The sends no acknowledgement reached within ack_timeout, made again.
  std::vector<Send> due(int64_t now_ms, const IsMember& is_member);
  // `node` is lost: what was sent to it, sent again to the next member of
  // its part.
  std::vector<Send> gone(const std::string& node, int64_t now_ms, const IsMember& is_member);
  // When due() has work next, if anything waits for an acknowledgement.
  std::optional<int64_t> next_due() const;

  size_t waiting() const { return waiting_.size(); }

 private:
  // A change by its origin's name and creation, and its serial there.
  using ChangeId = std::tuple<std::string, uint64_t, uint64_t>;
  static ChangeId id_of(const RecordsDelta& change);
  struct Waiting {
    std::shared_ptr<const RecordsDelta> change;
    std::vector<std::string> pass_to;
    int64_t deadline;
    int tries;  // sends of this part to this receiver
  };
  // How many times a part goes to one receiver that does not acknowledge
  // it before it is left to anti-entropy.
  static constexpr int kMaxTries = 3;
  // Cuts `to` and sends each part, remembered.
  void send_parts(const std::shared_ptr<const RecordsDelta>& change, std::vector<std::string> to,
                  int64_t now_ms, std::vector<Send>* sends);
  void send(std::string to, const std::shared_ptr<const RecordsDelta>& change,
            std::vector<std::string> pass_to, int tries, int64_t now_ms, std::vector<Send>* sends);
  // The part sent to `to` again, to its next member (`to` last if it is a
  // member still, `keep`, and it was not tried kMaxTries times).
  void resend(const std::string& to, Waiting waiting, bool keep, int64_t now_ms,
              const IsMember& is_member, std::vector<Send>* sends);
  void forget_old(int64_t now_ms);

  const strategies::Synchronization& sync_;
  // Sends not acknowledged yet, by change and receiver.
  std::map<std::pair<ChangeId, std::string>, Waiting> waiting_;
  // Changes seen, and when, oldest first (for the ttl).
  std::map<ChangeId, int64_t> seen_;
  std::deque<std::pair<int64_t, ChangeId>> seen_order_;
};

}  // namespace plexus::hub::detail

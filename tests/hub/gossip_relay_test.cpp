// GossipRelay: members passing one change on by the gossip strategy's
// tree, with lost messages, lost members and silent ones.
#include "gossip_relay.h"

#include <gtest/gtest.h>

#include <deque>
#include <map>
#include <set>

namespace plexus_test {
namespace {

using namespace std::chrono_literals;
using plexus::hub::GossipAck;
using plexus::hub::RecordsDelta;
using plexus::hub::detail::GossipRelay;
using plexus::strategies::Gossip;

// Members "n0".."n{n-1}" whose relays exchange sends through a queue; a
// member in `dead` takes nothing, one in `silent` takes changes but never
// acknowledges them, and `drop` loses the next sends it is asked to.
struct Members {
  explicit Members(size_t n, Gossip gossip = *Gossip::make(3, 1s, 10s)) : gossip(gossip) {
    for (size_t i = 0; i < n; ++i) {
      names.push_back("n" + std::to_string(i));
      relays.emplace(names.back(), GossipRelay(this->gossip));
    }
  }
  struct InFlight {
    std::string from;
    GossipRelay::Send send;
  };
  Gossip gossip;
  std::vector<std::string> names;
  std::map<std::string, GossipRelay> relays;
  std::deque<InFlight> queue;
  std::map<std::string, int> applied;
  std::set<std::string> dead, silent;
  size_t drop = 0, sends = 0, duplicates = 0;
  int64_t now = 0;

  bool is_member(const std::string& node) const { return !dead.count(node); }
  GossipRelay::IsMember member_test() {
    return [this](const std::string& node) { return is_member(node); };
  }
  void post(const std::string& from, std::vector<GossipRelay::Send> sends_made) {
    for (GossipRelay::Send& s : sends_made) {
      ++sends;
      if (drop > 0) {
        --drop;
        continue;
      }
      queue.push_back({from, std::move(s)});
    }
  }
  std::shared_ptr<RecordsDelta> change(uint64_t serial) {
    auto c = std::make_shared<RecordsDelta>();
    c->mutable_origin()->set_node("n0");
    c->mutable_origin()->set_creation(1);
    c->set_serial(serial);
    return c;
  }
  void originate(uint64_t serial) {
    std::vector<std::string> others(names.begin() + 1, names.end());
    post("n0", relays.at("n0").originate(change(serial), others, now));
  }
  void deliver_all() {
    while (!queue.empty()) {
      InFlight f = std::move(queue.front());
      queue.pop_front();
      const std::string& to = f.send.to;
      if (dead.count(to)) continue;
      std::vector<GossipRelay::Send> next;
      if (relays.at(to).receive(f.send.change, f.send.pass_to, now, &next)) {
        ++applied[to];
      } else {
        ++duplicates;
      }
      post(to, std::move(next));
      if (!silent.count(to) && !dead.count(f.from)) {
        GossipAck ack;
        *ack.mutable_origin() = f.send.change->origin();
        ack.set_serial(f.send.change->serial());
        ack.set_from(to);
        relays.at(f.from).acked(ack);
      }
    }
  }
  // Time passes to the next deadline of anyone, whose re-sends go out.
  bool tick() {
    std::optional<int64_t> next;
    for (auto& [name, relay] : relays) {
      if (dead.count(name)) continue;
      auto d = relay.next_due();
      if (d && (!next || *d < *next)) next = d;
    }
    if (!next) return false;
    now = *next;
    for (auto& [name, relay] : relays) {
      if (!dead.count(name)) post(name, relay.due(now, member_test()));
    }
    deliver_all();
    return true;
  }
  size_t waiting() {
    size_t w = 0;
    for (auto& [name, relay] : relays) {
      if (!dead.count(name)) w += relay.waiting();
    }
    return w;
  }
};

TEST(GossipRelayTest, AChangeReachesEveryMemberOnceWithMembersMinusOneSends) {
  Members m(100);
  m.originate(1);
  m.deliver_all();
  EXPECT_EQ(m.applied.size(), 99u);
  for (const auto& [node, times] : m.applied) EXPECT_EQ(times, 1) << node;
  EXPECT_EQ(m.sends, 99u);
  EXPECT_EQ(m.duplicates, 0u);
  EXPECT_EQ(m.waiting(), 0u) << "every send acknowledged";
  EXPECT_FALSE(m.tick());
}

TEST(GossipRelayTest, ALostMessageIsSentAgainAfterTheAckTimeout) {
  Members m(30);
  m.drop = 1;  // the decider's first send is lost with its whole part
  m.originate(1);
  m.deliver_all();
  EXPECT_LT(m.applied.size(), 29u);
  EXPECT_TRUE(m.tick());
  while (m.tick()) {
  }
  EXPECT_EQ(m.applied.size(), 29u) << "the part reached through its next member";
  EXPECT_EQ(m.waiting(), 0u);
  for (const auto& [node, times] : m.applied) EXPECT_EQ(times, 1) << node;
}

TEST(GossipRelayTest, APartWhoseFirstMemberIsLostGoesToItsNextMember) {
  Members m(30);
  // The first member of every part the decider sends is lost before it
  // takes the change.
  m.originate(1);
  std::vector<std::string> heads;
  for (const auto& f : m.queue) heads.push_back(f.send.to);
  ASSERT_EQ(heads.size(), 3u);
  for (const std::string& h : heads) m.dead.insert(h);
  m.deliver_all();
  EXPECT_EQ(m.applied.size(), 0u);
  for (const std::string& h : heads)
    m.post("n0", m.relays.at("n0").gone(h, m.now, m.member_test()));
  m.deliver_all();
  EXPECT_EQ(m.applied.size(), 26u) << "every member but the three lost";
  EXPECT_EQ(m.waiting(), 0u);
}

TEST(GossipRelayTest, ADuplicateIsAcknowledgedButNotAppliedOrPassedOnWithinTheTtl) {
  Members m(10);
  m.originate(1);
  m.deliver_all();
  size_t sends = m.sends;
  std::vector<GossipRelay::Send> next;
  EXPECT_FALSE(m.relays.at("n5").receive(m.change(1), {"n6", "n7"}, m.now, &next));
  EXPECT_TRUE(next.empty());
  EXPECT_TRUE(m.relays.at("n5").receive(m.change(2), {}, m.now, &next)) << "another change";
  // Past the ttl the change is forgotten (the registry's versions make a
  // second apply harmless).
  EXPECT_TRUE(m.relays.at("n5").receive(m.change(1), {}, m.now + 10'000, &next));
  EXPECT_EQ(m.sends, sends);
}

TEST(GossipRelayTest, AMemberThatNeverAcknowledgesIsTriedABoundedNumberOfTimes) {
  Members m(2);  // the decider and one silent member
  m.silent.insert("n1");
  m.originate(1);
  m.deliver_all();
  int ticks = 0;
  while (m.tick()) ++ticks;
  EXPECT_EQ(ticks, 3) << "three tries, then anti-entropy's";
  EXPECT_EQ(m.applied["n1"], 1);
  EXPECT_EQ(m.duplicates, 2u);
  EXPECT_EQ(m.waiting(), 0u);
}

}  // namespace
}  // namespace plexus_test

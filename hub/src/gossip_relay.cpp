#include "gossip_relay.h"

#include <algorithm>

#include "plexus/strategies/stable_hash.h"

namespace plexus::hub::detail {

GossipRelay::ChangeId GossipRelay::id_of(const RecordsDelta& change) {
  return {change.origin().node(), change.origin().creation(), change.serial()};
}

std::vector<GossipRelay::Send> GossipRelay::originate(std::shared_ptr<const RecordsDelta> change,
                                                      std::vector<std::string> to, int64_t now_ms) {
  if (sync_.ttl().count() > 0) {
    forget_old(now_ms);
    ChangeId id = id_of(*change);
    if (seen_.emplace(id, now_ms).second) seen_order_.emplace_back(now_ms, id);
  }
  std::vector<Send> sends;
  send_parts(change, std::move(to), now_ms, &sends);
  return sends;
}

bool GossipRelay::receive(std::shared_ptr<const RecordsDelta> change,
                          std::vector<std::string> pass_to, int64_t now_ms,
                          std::vector<Send>* sends) {
  if (sync_.ttl().count() > 0) {
    forget_old(now_ms);
    ChangeId id = id_of(*change);
    if (!seen_.emplace(id, now_ms).second) return false;
    seen_order_.emplace_back(now_ms, id);
  }
  send_parts(change, std::move(pass_to), now_ms, sends);
  return true;
}

void GossipRelay::acked(const GossipAck& ack) {
  ChangeId id{ack.origin().node(), ack.origin().creation(), ack.serial()};
  waiting_.erase({id, ack.from()});
}

std::vector<GossipRelay::Send> GossipRelay::due(int64_t now_ms, const IsMember& is_member) {
  std::vector<Send> sends;
  std::vector<std::pair<std::string, Waiting>> late;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.deadline <= now_ms) {
      late.emplace_back(it->first.second, std::move(it->second));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [to, w] : late) resend(to, std::move(w), true, now_ms, is_member, &sends);
  return sends;
}

std::vector<GossipRelay::Send> GossipRelay::gone(const std::string& node, int64_t now_ms,
                                                 const IsMember& is_member) {
  std::vector<Send> sends;
  std::vector<Waiting> lost;
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->first.second == node) {
      lost.push_back(std::move(it->second));
      it = waiting_.erase(it);
    } else {
      ++it;
    }
  }
  for (Waiting& w : lost) resend(node, std::move(w), false, now_ms, is_member, &sends);
  return sends;
}

std::optional<int64_t> GossipRelay::next_due() const {
  std::optional<int64_t> next;
  for (const auto& [key, w] : waiting_) {
    if (!next || w.deadline < *next) next = w.deadline;
  }
  return next;
}

void GossipRelay::send_parts(const std::shared_ptr<const RecordsDelta>& change,
                             std::vector<std::string> to, int64_t now_ms,
                             std::vector<Send>* sends) {
  if (to.empty()) return;
  const RecordsDelta& c = *change;
  uint64_t seed = strategies::stable_hash(c.origin().node(), c.origin().creation()) ^
                  (c.serial() * 0x9E3779B97F4A7C15ull);
  for (std::vector<std::string>& part : sync_.split(std::move(to), seed)) {
    std::string first = std::move(part.front());
    part.erase(part.begin());
    send(std::move(first), change, std::move(part), 1, now_ms, sends);
  }
}

void GossipRelay::send(std::string to, const std::shared_ptr<const RecordsDelta>& change,
                       std::vector<std::string> pass_to, int tries, int64_t now_ms,
                       std::vector<Send>* sends) {
  if (sync_.acknowledged()) {
    waiting_[{id_of(*change), to}] =
        Waiting{change, pass_to, now_ms + sync_.ack_timeout().count(), tries};
  }
  sends->push_back(Send{std::move(to), change, std::move(pass_to)});
}

void GossipRelay::resend(const std::string& to, Waiting waiting, bool keep, int64_t now_ms,
                         const IsMember& is_member, std::vector<Send>* sends) {
  std::vector<std::string> rest;
  for (std::string& member : waiting.pass_to) {
    if (is_member(member)) rest.push_back(std::move(member));
  }
  const bool again = keep && waiting.tries < kMaxTries && is_member(to);
  if (again) rest.push_back(to);
  if (rest.empty()) return;
  std::string first = std::move(rest.front());
  rest.erase(rest.begin());
  // Tries count per receiver: `to` again (alone) is its next try.
  int tries = first == to ? waiting.tries + 1 : 1;
  send(std::move(first), waiting.change, std::move(rest), tries, now_ms, sends);
}

void GossipRelay::forget_old(int64_t now_ms) {
  const int64_t ttl = sync_.ttl().count();
  while (!seen_order_.empty() && seen_order_.front().first + ttl <= now_ms) {
    seen_.erase(seen_order_.front().second);
    seen_order_.pop_front();
  }
}

}  // namespace plexus::hub::detail

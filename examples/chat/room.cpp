#include "room.h"

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "plexus/hub/redundancy_signal.h"
#include "plexus/node/node.h"
#include "room_log.h"

namespace plexus_chat {

namespace {

using plexus::Call;
using plexus::Context;
using plexus::Down;
using plexus::From;
using plexus::Node;
using plexus::Pid;
using plexus::Ref;
using plexus::Status;
using plexus::Task;
using plexus::hub::Hub;
using plexus::hub::RedundancySignal;
using Mode = plexus::strategies::Redundancy::Mode;

// How long a copy has to confirm a message before the post fails.
constexpr std::chrono::milliseconds kReplicateTimeout{1000};
// How often a copy without the log asks the others again.
constexpr std::chrono::milliseconds kSyncRetry{300};

struct Member {
  std::string user;
  Ref monitor;
};

class Room {
 public:
  Room(Context self, std::string id, const Hub& hub)
      : self_(self), node_(*Node::of(self)), id_(std::move(id)), hub_(hub) {}

  Task<> run();

 private:
  std::vector<Pid> other_copies() const {
    std::vector<Pid> out = hub_.get_pids(id_);
    std::erase(out, self_.self());
    return out;
  }
  bool is_active() const { return hub_.active_pid(id_) == self_.self(); }

  // ---- Catching up
  void ask_for_logs();
  void on_snapshot(const Snapshot& snapshot, Pid from);
  void on_sync_tick();
  // How long until the next round of ask_for_logs, while not synced.
  std::chrono::milliseconds until_sync_round() const;
  void become_synced(const std::string& how);

  // ---- The active copy
  Task<> on_post(Post post, From from);
  // Every other copy holds entries up to `index`: OK, or why not.
  Task<Status> replicate(uint64_t index);
  // Delivers the entries acknowledged since the last call to the members.
  void deliver(uint64_t acknowledged);
  void on_join(const Join& join, From from);
  // True if this copy is the active one now; the first time, it starts
  // delivering after what its log holds (the last active copy delivered
  // those).
  bool lead();
  void on_signal(const RedundancySignal& signal);
  // Tells the members to join the new active copy.
  void drop_members();

  Context self_;
  Node& node_;
  std::string id_;
  const Hub& hub_;
  RoomLog log_;
  bool synced_ = false;
  // This round of ask_for_logs: who was asked, who answered not synced.
  std::set<Pid> asked_, unsynced_answers_;
  int64_t next_sync_round_ms_ = 0;
  // What each other copy holds, as it last confirmed.
  std::map<Pid, uint64_t> peer_size_;
  uint64_t delivered_ = 0;
  std::map<Pid, Member> members_;
  bool leading_ = false;
  // Copies that took this copy's log before this node's registry named
  // them (a copy starting elsewhere), each monitored. While one is here,
  // the active copy acknowledges nothing: it would replicate to the copies
  // it knows, and the newcomer, which may become the active one, would
  // lack what was acknowledged after its snapshot.
  std::map<Pid, Ref> newcomers_;
  // Forgets the newcomers the registry now names: true if none is left.
  bool newcomers_known();
};

Task<> Room::run() {
  ask_for_logs();
  for (;;) {
    std::optional<std::pair<Post, From>> post;
    co_await self_.receive(
        [&](Call<Post>& c) { post.emplace(std::move(c.request), c.from); },
        [&](Call<Replicate>& c) {
          bool authority = hub_.active_pid(id_) == c.from.pid;
          Replicated answer = log_.apply(c.request, authority);
          if (!synced_ && authority && answer.conflict() == 0) {
            become_synced("from the active copy on " + node_.node_name(c.from.pid));
          }
          (void)self_.reply(c.from, answer);
        },
        [&](Call<Join>& c) { on_join(c.request, c.from); },
        [&](Leave& leave) {
          auto gateway = node_.from_proto(leave.gateway());
          auto it = gateway.ok() ? members_.find(*gateway) : members_.end();
          if (it == members_.end()) return;
          self_.demonitor(it->second.monitor, plexus::Flush::kYes);
          members_.erase(it);
        },
        [&](Call<HistoryRequest>& c) {
          History history;
          if (synced_) {
            log_.last(c.request.last(), &history);
          } else {
            history.set_error("the room is catching up; try again");
          }
          (void)self_.reply(c.from, history);
        },
        [&](SnapshotRequest& request) {
          auto to = node_.from_proto(request.reply_to());
          if (!to.ok()) return;
          std::vector<Pid> known = other_copies();
          if (std::find(known.begin(), known.end(), *to) == known.end() && !newcomers_.count(*to)) {
            newcomers_.emplace(*to, self_.monitor(*to));
          }
          Snapshot snapshot;
          snapshot.set_synced(synced_);
          log_.snapshot(&snapshot);
          node_.to_proto(self_.self(), snapshot.mutable_from());
          (void)self_.send(*to, std::move(snapshot));
        },
        [&](Snapshot& snapshot) {
          auto from = node_.from_proto(snapshot.from());
          if (from.ok()) on_snapshot(snapshot, *from);
        },
        [&](Down& down) {
          members_.erase(down.pid);
          newcomers_.erase(down.pid);
        },
        [&](RedundancySignal& signal) { on_signal(signal); },
        plexus::after(until_sync_round(), [] {}));
    // A deadline, not an idle timeout: a copy that is sent posts all the
    // time must still ask again.
    if (!synced_ && self_.runtime().now_ms() >= next_sync_round_ms_) on_sync_tick();
    if (post) co_await on_post(std::move(post->first), post->second);
  }
}

std::chrono::milliseconds Room::until_sync_round() const {
  if (synced_) return std::chrono::milliseconds(3'600'000);
  return std::chrono::milliseconds(
      std::max<int64_t>(next_sync_round_ms_ - self_.runtime().now_ms(), 0));
}

void Room::ask_for_logs() {
  next_sync_round_ms_ = self_.runtime().now_ms() + kSyncRetry.count();
  asked_.clear();
  unsynced_answers_.clear();
  SnapshotRequest request;
  node_.to_proto(self_.self(), request.mutable_reply_to());
  for (Pid copy : other_copies()) {
    asked_.insert(copy);
    (void)self_.send(copy, request);
  }
  // The only copy: a new room, or the last copy left.
  if (asked_.empty()) become_synced("the only copy");
}

void Room::become_synced(const std::string& how) {
  synced_ = true;
  node_.runtime().log(plexus::LogLevel::kInfo, [&] {
    return "room " + id_ + ": this copy has the log (" + std::to_string(log_.size()) +
           " messages): " + how;
  });
}

void Room::on_snapshot(const Snapshot& snapshot, Pid from) {
  if (synced_) return;
  if (!snapshot.synced()) {
    unsynced_answers_.insert(from);
    return;
  }
  log_.adopt(snapshot);
  become_synced("from the copy on " + node_.node_name(from));
}

void Room::on_sync_tick() {
  // No copy that holds the log answered. If every other copy said it is
  // catching up too, nobody holds more than nothing: the active copy starts
  // the log (a new room's copies all start at once).
  bool all_unsynced = !asked_.empty() && unsynced_answers_ == asked_;
  if (all_unsynced && is_active()) {
    become_synced("no copy has more");
    return;
  }
  ask_for_logs();
}

Task<> Room::on_post(Post post, From from) {
  PostReply reply;
  if (!synced_) {
    reply.set_error("the room is catching up; try again");
  } else if (!lead()) {
    reply.set_error("not the room's active copy; try again");
  } else if (!newcomers_known()) {
    reply.set_error("a new copy of the room is starting; try again");
  } else {
    std::optional<uint64_t> index = log_.find(post.origin(), post.seq());
    if (!index) index = log_.append(post);
    Status replicated = co_await replicate(*index);
    if (replicated.ok()) {
      reply.set_index(*index);
      deliver(*index);
    } else {
      reply.set_error(replicated.message());
    }
  }
  (void)self_.reply(from, reply);
}

Task<Status> Room::replicate(uint64_t index) {
  std::vector<Pid> copies = other_copies();
  // Forget the copies that are gone (moved, or lost with their node).
  std::erase_if(peer_size_, [&](const auto& entry) {
    return std::find(copies.begin(), copies.end(), entry.first) == copies.end();
  });
  if (copies.empty()) {
    // Acknowledged means held by two nodes: a cluster of one cannot.
    co_return Status(plexus::StatusCode::kUnavailable,
                     "the room has one copy (one node); waiting for a second");
  }
  for (Pid copy : copies) {
    // A copy not heard from yet is sent the new entry only; it says how
    // much it holds, and the next round sends the rest.
    auto known = peer_size_.find(copy);
    uint64_t have = known == peer_size_.end() ? index - 1 : known->second;
    for (int round = 0; have < index; ++round) {
      if (round == 3)
        co_return Status(plexus::StatusCode::kUnavailable, "a copy keeps falling behind");
      plexus::Result<Replicated> answer =
          co_await self_.call<Replicated>(copy, log_.from(have + 1), kReplicateTimeout);
      if (!answer.ok()) {
        peer_size_.erase(copy);
        co_return Status(plexus::StatusCode::kUnavailable,
                         "the copy on " + node_.node_name(copy) +
                             " did not confirm: " + answer.status().message());
      }
      if (answer->conflict() != 0) {
        co_return Status(plexus::StatusCode::kUnavailable, "the copy on " + node_.node_name(copy) +
                                                               " holds another message " +
                                                               std::to_string(answer->conflict()));
      }
      have = answer->size();
      peer_size_[copy] = have;
    }
  }
  co_return Status::OK();
}

void Room::deliver(uint64_t acknowledged) {
  for (; delivered_ < acknowledged; ++delivered_) {
    Delivery delivery;
    delivery.set_room(id_);
    *delivery.mutable_entry() = log_.at(delivered_ + 1);
    for (const auto& [gateway, member] : members_) (void)self_.send(gateway, delivery);
  }
}

void Room::on_join(const Join& join, From from) {
  Joined joined;
  auto gateway = node_.from_proto(join.gateway());
  if (!gateway.ok()) {
    joined.set_error("bad gateway pid");
  } else if (!synced_) {
    joined.set_error("the room is catching up; try again");
  } else if (!lead()) {
    joined.set_error("not the room's active copy; try again");
  } else {
    if (!members_.count(*gateway))
      members_[*gateway] = Member{join.user(), self_.monitor(*gateway)};
    node_.to_proto(self_.self(), joined.mutable_copy());
    joined.set_size(log_.size());
    std::vector<std::string> names;
    for (const auto& [pid, member] : members_) names.push_back(member.user);
    std::sort(names.begin(), names.end());
    for (std::string& name : names) joined.add_members(std::move(name));
  }
  (void)self_.reply(from, joined);
}

bool Room::newcomers_known() {
  std::vector<Pid> known = other_copies();
  for (auto it = newcomers_.begin(); it != newcomers_.end();) {
    if (std::find(known.begin(), known.end(), it->first) != known.end()) {
      self_.demonitor(it->second, plexus::Flush::kYes);
      it = newcomers_.erase(it);
    } else {
      ++it;
    }
  }
  return newcomers_.empty();
}

bool Room::lead() {
  if (!is_active()) return false;
  if (!leading_) delivered_ = log_.size();
  leading_ = true;
  return true;
}

void Room::on_signal(const RedundancySignal& signal) {
  if (signal.mode == Mode::kActive) {
    if (!synced_) ask_for_logs();
  } else if (leading_) {
    leading_ = false;
    drop_members();
  }
}

void Room::drop_members() {
  RoomMoved moved;
  moved.set_room(id_);
  for (auto& [gateway, member] : members_) {
    self_.demonitor(member.monitor, plexus::Flush::kYes);
    (void)self_.send(gateway, moved);
  }
  members_.clear();
}

}  // namespace

Task<> room(Context self, RoomArgs args, ChatHubs* hubs) {
  ChatHubs::Hubs found = co_await hubs->wait(self);
  Room room(self, args.room(), *found.rooms);
  co_await room.run();
}

}  // namespace plexus_chat

#include "room_log.h"

namespace plexus_chat {

namespace {

bool same(const Entry& a, const Entry& b) { return a.origin() == b.origin() && a.seq() == b.seq(); }

}  // namespace

std::optional<uint64_t> RoomLog::find(const std::string& origin, uint64_t seq) const {
  auto it = by_origin_.find(std::make_pair(origin, seq));
  if (it == by_origin_.end()) return std::nullopt;
  return it->second;
}

uint64_t RoomLog::append(const Post& post) {
  Entry entry;
  entry.set_index(size() + 1);
  entry.set_user(post.user());
  entry.set_text(post.text());
  entry.set_origin(post.origin());
  entry.set_seq(post.seq());
  push(std::move(entry));
  return size();
}

Replicate RoomLog::from(uint64_t from) const {
  Replicate out;
  out.set_from_index(from);
  for (uint64_t i = std::max<uint64_t>(from, 1); i <= size(); ++i) *out.add_entries() = at(i);
  return out;
}

Replicated RoomLog::apply(const Replicate& replicate, bool authority) {
  Replicated out;
  uint64_t index = replicate.from_index();
  if (index >= 1 && index <= size() + 1) {
    for (const Entry& entry : replicate.entries()) {
      if (index <= size() && !same(at(index), entry)) {
        if (!authority) {
          out.set_conflict(index);
          break;
        }
        truncate(index - 1);
      }
      if (index == size() + 1) push(entry);
      ++index;
    }
  }
  out.set_size(size());
  return out;
}

bool RoomLog::adopt(const Snapshot& snapshot) {
  if (static_cast<uint64_t>(snapshot.entries_size()) <= size()) return false;
  truncate(0);
  for (const Entry& entry : snapshot.entries()) push(entry);
  return true;
}

void RoomLog::snapshot(Snapshot* out) const {
  for (const Entry& entry : entries_) *out->add_entries() = entry;
}

void RoomLog::last(uint64_t n, History* out) const {
  for (uint64_t i = size() > n ? size() - n + 1 : 1; i <= size(); ++i) *out->add_entries() = at(i);
}

void RoomLog::truncate(uint64_t new_size) {
  while (size() > new_size) {
    by_origin_.erase(std::make_pair(entries_.back().origin(), entries_.back().seq()));
    entries_.pop_back();
  }
}

void RoomLog::push(Entry entry) {
  entry.set_index(size() + 1);
  by_origin_.emplace(std::make_pair(entry.origin(), entry.seq()), size() + 1);
  entries_.push_back(std::move(entry));
}

}  // namespace plexus_chat

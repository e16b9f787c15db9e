// RoomLog: a chat room's messages, as each copy of the room holds them. No
// I/O: the room process (room.h) moves its entries between the copies.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "chat.pb.h"

namespace plexus_chat {

// Entries are numbered from 1 without gaps; an entry is known by its origin
// and seq, so that a retried post is found, not appended twice. The log
// keeps every message (an example: a real room would keep its last N).
class RoomLog {
 public:
  uint64_t size() const { return entries_.size(); }
  // Entry `index`, 1 <= index <= size().
  const Entry& at(uint64_t index) const { return entries_.at(index - 1); }

  // The index of the message posted as (origin, seq), if the log has it.
  std::optional<uint64_t> find(const std::string& origin, uint64_t seq) const;
  // Appends a new message (not found()): its index.
  uint64_t append(const Post& post);

  // What another copy must be sent for it to hold entries from `from` on.
  Replicate from(uint64_t from) const;
  // Takes what `replicate` adds to this log. An entry that differs from
  // this log's at the same index is a conflict: reported (Replicated's
  // conflict), or, from the `authority` (the copy that the registry names
  // active), taken, dropping this log's entries from that index on. A
  // replicate that starts beyond size() + 1 adds nothing.
  Replicated apply(const Replicate& replicate, bool authority);
  // Takes a snapshot's entries if it holds more than this log: true if so.
  bool adopt(const Snapshot& snapshot);
  void snapshot(Snapshot* out) const;
  // The last `n` entries, oldest first.
  void last(uint64_t n, History* out) const;

 private:
  void truncate(uint64_t size);
  void push(Entry entry);

  std::vector<Entry> entries_;
  std::map<std::pair<std::string, uint64_t>, uint64_t, std::less<>> by_origin_;
};

}  // namespace plexus_chat

// Bulk hub messages (a handoff, a segment swap, a change) cut into parts
// that each stay far below the node's frame limit.
//
// A member's handoff holds every copy it runs in a decider's segments and
// every state its store gave back: 100,000 saved states of 1 KiB are 100 MB,
// above the 64 MiB a connection accepts by default, and a frame over the
// limit costs the connection. Parts also keep one large message from holding
// up the node's heartbeats behind it.
//
//   sender                                   receiver
//   PartCutter: items go into the current    PartsReceived: each part taken
//   part until it holds `budget` bytes,      once (a duplicate is dropped);
//   then into a fresh copy of the header.    the whole has arrived when every
//   Numbered parts carry (part, parts).      part in [0, parts) has.
//
// A part is self-contained: each item in it can be taken on its own, so a
// receiver acts on a part as it comes and waits only for the count.
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace plexus::hub::detail {

// The bytes a part aims at, for a node whose connections refuse frames over
// `max_frame_size`: 1 MiB, or a quarter of the limit where that is smaller. An
// item larger than the budget still goes, alone in its part.
constexpr size_t part_budget(size_t max_frame_size) {
  return max_frame_size / 4 < (size_t{1} << 20) ? max_frame_size / 4 : size_t{1} << 20;
}

// Collects the parts of one message. `header` is the message with only its
// header fields set; every part starts as a copy of it.
template <class Message>
class PartCutter {
 public:
  PartCutter(size_t budget, Message header) : budget_(budget), header_(std::move(header)) {
    parts_.push_back(header_);
  }

  // The part the next item goes into.
  Message& current() {
    if (used_ >= budget_) {
      parts_.push_back(header_);
      used_ = 0;
    }
    return parts_.back();
  }
  // Counts an item of `bytes` (serialized) just added to current().
  void added(size_t bytes) { used_ += bytes; }
  // The last part, for what goes once at the end (a handoff's digests).
  Message& last() { return parts_.back(); }

  // The parts, at least one, each numbered with set_part(i) and
  // set_parts(n).
  std::vector<Message> numbered() && {
    for (size_t i = 0; i < parts_.size(); ++i) {
      parts_[i].set_part(static_cast<uint32_t>(i));
      parts_[i].set_parts(static_cast<uint32_t>(parts_.size()));
    }
    return std::move(parts_);
  }
  // The parts, unnumbered (each one a message of its own).
  std::vector<Message> each() && { return std::move(parts_); }

 private:
  size_t budget_;
  Message header_;
  size_t used_ = 0;
  std::vector<Message> parts_;
};

// The parts of one numbered message that a receiver has taken.
class PartsReceived {
 public:
  // True if part `part` of `parts` is new, and marks it taken; false for a
  // part taken before, one that contradicts the count first given, or a
  // count above kMaxParts (malformed: no message is 64 GiB). A count of 0 (a
  // sender that does not cut) means one part.
  static constexpr uint32_t kMaxParts = 1u << 16;
  bool take(uint32_t part, uint32_t parts) {
    parts = parts == 0 ? 1 : parts;
    if (parts > kMaxParts) return false;
    if (taken_.empty()) taken_.assign(parts, false);
    if (parts != taken_.size() || part >= parts || taken_[part]) return false;
    taken_[part] = true;
    ++count_;
    return true;
  }
  // Every part has been taken.
  bool complete() const { return !taken_.empty() && count_ == taken_.size(); }

 private:
  std::vector<bool> taken_;
  size_t count_ = 0;
};

}  // namespace plexus::hub::detail

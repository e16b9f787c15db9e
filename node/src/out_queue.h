// OutQueue: the frames queued for one peer, and who may write them when.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "plexus/detail/mutex.h"
#include "plexus/wire.pb.h"

namespace plexus::detail {

// The bytes of whole frames waiting for a peer's connection, in send order,
// and the state of their writing. Three parties write to it: senders append
// (any thread), the loop takes the bytes for its writes, and a sender's turn
// may write them itself when it ends. A member of its Peer, guarded by the
// peer's mutex: every call is made with that mutex held.
//
// Writes are done by the loop, or directly by a sender: while the loop has
// nothing to write and no write in flight on a plain TCP connection, it opens
// the socket for direct writes (open_direct); a sender may then write to it,
// without waking the loop, until the loop takes the queue again or closes.
class OutQueue {
 public:
  using Clock = std::chrono::steady_clock;

  bool empty() const { return bytes_.empty(); }
  size_t size() const { return bytes_.size(); }

  // ---- Appending (senders, and the loop for its own frames)
  // Appends a frame, length prefix first.
  void append(const wire::Frame& frame);
  // The buffer to append one frame to with the hand-written encoders.
  std::string* frame_buffer() {
    ++frames_;
    return &bytes_;
  }

  // ---- Writing (the loop)
  // Takes every queued byte for one write, leaving `spare`'s buffer (the last
  // write's, done with) in its place; closes direct writes.
  std::string take(std::string spare);
  // Drops what is queued (the peer's incarnation is gone).
  void clear() { bytes_.clear(); }

  // ---- Direct writes (plain TCP)
  // The loop has nothing to write on `fd`: senders may write to it.
  void open_direct(int fd) { direct_fd_ = fd; }
  // No sender may write to `fd` from now on (it closes).
  void close_direct_to(int fd) {
    if (direct_fd_ == fd) direct_fd_ = -1;
  }
  // No sender may write directly until the loop opens it again (a new
  // connection comes up).
  void close_direct() { direct_fd_ = -1; }
  bool direct_open() const { return direct_fd_ >= 0; }
  // Writes what it can to the open socket without blocking. True if all was
  // written; false if some is left, and then direct writes are closed (the
  // socket is full or failed: the loop writes the rest, or sees the error).
  bool write_direct();
  Clock::time_point last_direct_write() const { return last_direct_write_; }

  // Since when the queue has been at or over `limit` (none while it is
  // under): a peer that takes nothing for a tick timeout is disconnected.
  std::optional<Clock::time_point> full_since;
  void note_size(size_t limit, Clock::time_point now) {
    if (bytes_.size() < limit) {
      full_since.reset();
    } else if (!full_since) {
      full_since = now;
    }
  }

  // A flush of this queue is posted to the loop and has not run yet.
  bool flush_posted = false;
  // A close of the connection for a full queue is on its way.
  bool closing = false;
  // Signaled when bytes leave the queue or the peer is lost (senders wait on
  // it for room).
  CondVar drained;

  uint64_t frames() const { return frames_; }
  // A new connection counts from zero.
  void reset_counters() { frames_ = bytes_written_ = writes_ = 0; }
  uint64_t bytes_written() const { return bytes_written_; }
  uint64_t writes() const { return writes_; }

 private:
  std::string bytes_;
  int direct_fd_ = -1;
  Clock::time_point last_direct_write_;
  uint64_t frames_ = 0;
  uint64_t bytes_written_ = 0;
  uint64_t writes_ = 0;
};

}  // namespace plexus::detail

#include "out_queue.h"

#include <sys/socket.h>

#include "frame_codec.h"

namespace plexus::detail {

void OutQueue::append(const wire::Frame& frame) { append_frame(frame, frame_buffer()); }

std::string OutQueue::take(std::string spare) {
  direct_fd_ = -1;
  full_since.reset();
  std::string batch;
  batch.swap(bytes_);
  bytes_.swap(spare);  // reuse the last batch's buffer
  bytes_.clear();
  ++writes_;
  bytes_written_ += batch.size();
  drained.notify_all();
  return batch;
}

bool OutQueue::write_direct() {
  ssize_t n = ::send(direct_fd_, bytes_.data(), bytes_.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
  if (n > 0) {
    ++writes_;
    bytes_written_ += static_cast<uint64_t>(n);
    last_direct_write_ = Clock::now();
    bytes_.erase(0, static_cast<size_t>(n));
    drained.notify_all();
    if (bytes_.empty()) {
      full_since.reset();
      return true;
    }
  }
  direct_fd_ = -1;
  return false;
}

}  // namespace plexus::detail

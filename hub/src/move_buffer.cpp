#include "move_buffer.h"

#include <string>

namespace plexus::hub::detail {

Status MoveBuffer::hold(Message& msg, Pid* to) {
  plexus::detail::MutexLock lock(mu_);
  if (released_) {
    *to = to_;
    return Status::OK();
  }
  if (held_.size() >= limit_) {
    return Status(StatusCode::kResourceExhausted,
                  "the child is being handed over and " + std::to_string(limit_) +
                      " messages to it wait here already: try again");
  }
  held_.push_back(std::move(msg));
  return Status::OK();
}

size_t MoveBuffer::release(Context self, Pid to, size_t* dropped) {
  plexus::detail::MutexLock lock(mu_);
  released_ = true;
  to_ = to;
  size_t held = held_.size();
  *dropped = to ? 0 : held;
  // Sent while the lock is held: a sender that finds the buffer released
  // sends after these.
  for (Message& m : held_) {
    if (to) (void)self.forward(to, std::move(m));
  }
  held_.clear();
  return to ? held : 0;
}

}  // namespace plexus::hub::detail

// MoveBuffer: what Hub::send holds for a child while its hot swap is under
// way.
#pragma once

#include <cstddef>
#include <deque>

#include "plexus/context.h"
#include "plexus/detail/mutex.h"
#include "plexus/message.h"
#include "plexus/pid.h"
#include "plexus/status.h"

namespace plexus::hub::detail {

// One per child being handed over, on every member, from the decider's
// MoveBegin until the move's end (its commit, or its calling off). Each
// sender's messages are held in order and released, in order, to the copy
// that has the child when the move ends; what a sender sends after that
// goes straight there. So no message through the hub is lost or overtaken
// by a later one of the same sender.
//
// Threads: senders (any thread, from Hub::send, inside Registry::route)
// call hold(); the hub server calls release(), once.
class MoveBuffer {
 public:
  explicit MoveBuffer(size_t limit) : limit_(limit) {}

  // Holds `msg` (moved from): OK. kResourceExhausted, `msg` untouched, if
  // `limit` are held (the sender's backpressure). Once released, holds
  // nothing: sets *to to where the child is now (null if it has no copy)
  // and returns OK with `msg` untouched, to be sent there.
  Status hold(Message& msg, Pid* to);
  // Sends what is held to `to` from `self`, in order, and has later senders
  // send there; returns how many. A null `to` (the child has no copy any
  // more) drops them: *dropped says how many, for the log.
  size_t release(Context self, Pid to, size_t* dropped);

 private:
  plexus::detail::Mutex mu_;
  std::deque<Message> held_ PLEXUS_GUARDED_BY(mu_);
  bool released_ PLEXUS_GUARDED_BY(mu_) = false;
  Pid to_ PLEXUS_GUARDED_BY(mu_);
  const size_t limit_;
};

}  // namespace plexus::hub::detail

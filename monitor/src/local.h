// The Local: one per node, registered as "plexus.zen.local".
#pragma once

#include <memory>
#include <unordered_map>

#include "dispatcher.h"
#include "plexus/server.h"
#include "state.h"

namespace plexus::zen::detail {

// Owns the Dispatcher's queue and drives it on a timer, and monitors every
// subscriber (once, whatever its number of monitors): when one dies, its
// rows leave the references table and its Connectors are told to drop them,
// as ZenMonitor.Local does.
class Local : public Server {
 public:
  explicit Local(std::shared_ptr<State> state) : state_(std::move(state)), dispatcher_(*state_) {}

  Status init() override;
  void handle_info(Message& msg) override;

 private:
  // The next slice of the demand interval. A demand above kSliceMax is
  // delivered in slices of at most kSliceMax spread over the interval (the
  // rate is the same), so that a subscriber never finds more than kSliceMax
  // Downs in its mailbox at once ahead of its other work.
  void schedule_tick();
  static constexpr size_t kSliceMax = 1000;
  size_t slices() const;
  void subscriber_down(Pid subscriber);

  std::shared_ptr<State> state_;
  Dispatcher dispatcher_;
  std::unordered_map<Ref, Pid> subscribers_;  // monitor ref -> subscriber
  int64_t next_tick_ms_ = 0;                  // when the next slice is due
};

}  // namespace plexus::zen::detail

#include "dispatcher.h"

#include <iterator>
#include <utility>

namespace plexus::zen::detail {

void Dispatcher::enqueue(std::vector<Dispatch>&& downs) {
  add(state_.counters.local_enqueue, downs.size());
  queue_.insert(queue_.end(), std::make_move_iterator(downs.begin()),
                std::make_move_iterator(downs.end()));
  set(state_.counters.local_batch_length, queue_.size());
}

size_t Dispatcher::deliver(size_t amount) {
  size_t sent = 0;
  size_t taken = 0;
  while (sent < amount && !queue_.empty()) {
    Dispatch& d = queue_.front();
    ++taken;
    bool delivered = state_.references.take_and_deliver(d.subscriber, d.ref, [&](Pid) {
      (void)state_.runtime.send(d.subscriber, Down{d.ref, d.target, std::move(d.reason)});
    });
    if (delivered) ++sent;
    queue_.pop_front();
  }
  add(state_.counters.dispatcher_delivered, taken);
  add(state_.counters.dispatcher_processed, sent);
  set(state_.counters.local_batch_length, queue_.size());
  return sent;
}

}  // namespace plexus::zen::detail

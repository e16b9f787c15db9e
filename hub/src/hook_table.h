// HookTable: a hub's hooks by event, registered from any thread and run by
// the hub's server.
#pragma once

#include <array>
#include <atomic>
#include <string>
#include <thread>
#include <vector>

#include "plexus/detail/mutex.h"
#include "plexus/hub/hooks.h"
#include "plexus/runtime.h"
#include "plexus/status.h"

namespace plexus::hub::detail {

class HookTable {
 public:
  Status add(HookEvent event, std::string id, int priority, HookHandler handler);
  // Removes the handler, and waits for a run() in progress on another thread
  // to end: once it returns, the handler is not running and never runs
  // again, so its owner may go. (From a handler itself, it does not wait.)
  bool cancel(HookEvent event, const std::string& id);
  Status add_alter(std::string id, int priority, AlterHook hook);
  bool cancel_alter(const std::string& id);

  // True if `event` has a handler: the server builds an event's data only then.
  bool wanted(HookEvent event) const {
    return counts_[static_cast<size_t>(event)].load(std::memory_order_relaxed) > 0;
  }
  // Runs the handlers of `event`, logging (on `rt`) the ones that throw.
  void run(HookEvent event, const HookData& data, const Runtime& rt) const;
  // Runs the alter hooks on `spec`; an error names the one that threw.
  Status alter(ChildSpec& spec) const;

 private:
  static constexpr size_t kEvents = static_cast<size_t>(HookEvent::kShutdown) + 1;
  template <class F>
  struct Entry {
    std::string id;
    int priority;
    uint64_t order;  // registration order, for equal priorities
    F fn;
  };

  mutable plexus::detail::Mutex mu_;
  // Held by run() while it calls handlers (the hub's server, one thread at
  // a time), so that cancel() can wait for it; `running_on_` is that thread.
  mutable plexus::detail::Mutex run_mu_;
  mutable std::atomic<std::thread::id> running_on_{};
  std::array<std::vector<Entry<HookHandler>>, kEvents> handlers_ PLEXUS_GUARDED_BY(mu_);
  std::vector<Entry<AlterHook>> alters_ PLEXUS_GUARDED_BY(mu_);
  uint64_t next_order_ PLEXUS_GUARDED_BY(mu_) = 0;
  std::array<std::atomic<uint32_t>, kEvents> counts_{};
};

}  // namespace plexus::hub::detail

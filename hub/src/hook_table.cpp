#include "hook_table.h"

#include <algorithm>
#include <exception>

namespace plexus::hub::detail {

namespace {

template <class E>
void insert_sorted(std::vector<E>& list, E entry) {
  auto at = std::upper_bound(list.begin(), list.end(), entry, [](const E& a, const E& b) {
    return a.priority != b.priority ? a.priority < b.priority : a.order < b.order;
  });
  list.insert(at, std::move(entry));
}

template <class E>
bool erase_id(std::vector<E>& list, const std::string& id) {
  return std::erase_if(list, [&](const E& e) { return e.id == id; }) > 0;
}

}  // namespace

Status HookTable::add(HookEvent event, std::string id, int priority, HookHandler handler) {
  if (!handler) return Status(StatusCode::kInvalidArgument, "a hook without a handler");
  size_t e = static_cast<size_t>(event);
  if (e >= kEvents) return Status(StatusCode::kInvalidArgument, "no such hook event");
  plexus::detail::MutexLock lock(mu_);
  auto& list = handlers_[e];
  if (std::any_of(list.begin(), list.end(), [&](const auto& h) { return h.id == id; })) {
    return Status(StatusCode::kAlreadyExists, "a hook '" + id + "' is registered for the event");
  }
  insert_sorted(list,
                Entry<HookHandler>{std::move(id), priority, next_order_++, std::move(handler)});
  counts_[e].store(static_cast<uint32_t>(list.size()), std::memory_order_relaxed);
  return Status::OK();
}

bool HookTable::cancel(HookEvent event, const std::string& id) {
  size_t e = static_cast<size_t>(event);
  if (e >= kEvents) return false;
  bool erased;
  {
    plexus::detail::MutexLock lock(mu_);
    erased = erase_id(handlers_[e], id);
    counts_[e].store(static_cast<uint32_t>(handlers_[e].size()), std::memory_order_relaxed);
  }
  // A run() that took its list before the erase may still call the handler.
  if (erased && running_on_.load(std::memory_order_acquire) != std::this_thread::get_id()) {
    plexus::detail::MutexLock wait(run_mu_);
  }
  return erased;
}

Status HookTable::add_alter(std::string id, int priority, AlterHook hook) {
  if (!hook) return Status(StatusCode::kInvalidArgument, "an alter hook without a function");
  plexus::detail::MutexLock lock(mu_);
  if (std::any_of(alters_.begin(), alters_.end(), [&](const auto& h) { return h.id == id; })) {
    return Status(StatusCode::kAlreadyExists, "an alter hook '" + id + "' is registered");
  }
  insert_sorted(alters_, Entry<AlterHook>{std::move(id), priority, next_order_++, std::move(hook)});
  return Status::OK();
}

bool HookTable::cancel_alter(const std::string& id) {
  plexus::detail::MutexLock lock(mu_);
  return erase_id(alters_, id);
}

void HookTable::run(HookEvent event, const HookData& data, const Runtime& rt) const {
  plexus::detail::MutexLock running(run_mu_);
  running_on_.store(std::this_thread::get_id(), std::memory_order_release);
  struct Done {
    const HookTable* table;
    ~Done() { table->running_on_.store({}, std::memory_order_release); }
  } done{this};
  std::vector<Entry<HookHandler>> list;
  {
    plexus::detail::MutexLock lock(mu_);
    list = handlers_[static_cast<size_t>(event)];
  }
  for (const auto& h : list) {
    try {
      h.fn(event, data);
    } catch (const std::exception& e) {
      rt.log(LogLevel::kError, "hub hook '" + h.id + "' threw: " + e.what());
    } catch (...) {
      rt.log(LogLevel::kError, "hub hook '" + h.id + "' threw");
    }
  }
}

Status HookTable::alter(ChildSpec& spec) const {
  std::vector<Entry<AlterHook>> list;
  {
    plexus::detail::MutexLock lock(mu_);
    list = alters_;
  }
  for (const auto& h : list) {
    try {
      h.fn(spec);
    } catch (const std::exception& e) {
      return Status(StatusCode::kInvalidArgument,
                    "alter hook '" + h.id + "' failed on " + spec.id + ": " + e.what());
    }
  }
  return Status::OK();
}

}  // namespace plexus::hub::detail

// ProcessInfo: a process's snapshot of itself (RuntimeImpl::info_of), and the
// requests that ask for one (Context::process_info, Runtime::process_info);
// the loads read from outside (Runtime::process_loads).
#include "plexus/process_info.h"

#include <algorithm>

#include "plexus/context.h"
#include "plexus/inbox.h"
#include "plexus/receive.h"
#include "plexus/runtime.h"
#include "process_info_reply.h"
#include "runtime_impl.h"

namespace plexus {

namespace detail {

ProcessInfo RuntimeImpl::info_of(Process* p) const {
  ProcessInfo info;
  info.pid = p->pid();
  // Asked between two steps of its life, a process waits for a message; asked
  // while its own code reads the mailbox, it runs.
  bool waiting = p->kind == ProcessKind::kServer ? !p->in_callback : p->receive != nullptr;
  info.status = waiting ? ProcessInfo::Status::kWaiting : ProcessInfo::Status::kRunning;
  if (p->registered.load(std::memory_order_acquire)) {
    info.registered_name = registry.name_of(info.pid);
  }
  info.message_queue_len = p->queue_len();
  info.trap_exit = p->trap_exit;
  info.server = p->kind == ProcessKind::kServer;
  info.parent = p->parent;
  if (ProcessExtras* ex = p->extras) {
    ex->links.for_each([&](const Pid& linked, uint8_t) { info.links.push_back(linked); });
    ex->monitors_out.for_each([&](const Ref& ref, const Pid& target) {
      ProcessInfo::Monitor m{ref, target};
      if (const MonitoredName* by_name = ex->monitored_names.find(ref)) {
        m.name = by_name->name->name;
        m.node = by_name->name->node;
      }
      info.monitors.push_back(std::move(m));
    });
    ex->monitors_in.for_each(
        [&](const Ref&, const Pid& watcher) { info.monitored_by.push_back(watcher); });
  }
  // In a stable order, whatever the tables' hashing.
  std::sort(info.links.begin(), info.links.end());
  std::sort(info.monitors.begin(), info.monitors.end(),
            [](const auto& a, const auto& b) { return a.ref < b.ref; });
  std::sort(info.monitored_by.begin(), info.monitored_by.end());
  return info;
}

}  // namespace detail

namespace {

detail::RuntimeImpl& impl_of(Runtime& rt) { return detail::RuntimeAccess::impl(rt); }

Status not_here(Pid pid) {
  return Status(StatusCode::kInvalidArgument,
                "process_info of " + pid.to_string() + ", a process of another node");
}

}  // namespace

ProcessInfo Context::process_info() const { return impl_of(runtime()).info_of(p_); }

Task<Result<ProcessInfo>> Context::process_info(Pid pid, std::chrono::milliseconds timeout) const {
  if (pid.node != 0) co_return not_here(pid);
  if (pid == self()) co_return process_info();
  Ref ref = runtime().make_ref();
  impl_of(runtime()).send_signal<detail::NoPayload>(pid, detail::EnvelopeKind::kProcessInfo, self(),
                                                    ref);
  std::optional<std::optional<ProcessInfo>> answer;
  co_await receive(match([ref](const detail::ProcessInfoReply& r) { return r.ref == ref; },
                         [&](detail::ProcessInfoReply& r) { answer = std::move(r.info); }),
                   after(timeout, [] {}));
  if (!answer) {
    co_return Status(StatusCode::kTimeout, pid.to_string() + " gave no process_info within " +
                                               std::to_string(timeout.count()) + " ms");
  }
  if (!*answer) co_return Status(StatusCode::kNoProc, pid.to_string() + " is not alive");
  co_return std::move(**answer);
}

std::vector<ProcessLoad> Runtime::process_loads() const {
  detail::RuntimeImpl& rt = *impl_;
  std::vector<ProcessLoad> loads;
  loads.reserve(rt.table.live());
  rt.table.for_each_live([&](const detail::Process* p) {
    ProcessLoad& load = loads.emplace_back();
    load.pid = p->pid();
    load.message_queue_len = p->queue_len();
    load.messages_taken = p->taken.load(std::memory_order_relaxed);
    if (p->registered.load(std::memory_order_acquire)) {
      load.registered_name = rt.registry.name_of(load.pid);
    }
  });
  return loads;
}

Result<ProcessInfo> Runtime::process_info(Pid pid, std::chrono::milliseconds timeout) {
  if (pid.node != 0) return not_here(pid);
  Inbox asker(*this);
  return asker.process_info(pid, timeout);
}

}  // namespace plexus

#include "plexus/context.h"

#include <optional>

#include "plexus/detail/init_ack.h"
#include "plexus/runtime.h"
#include "runtime_impl.h"

namespace plexus {
namespace detail {

namespace {
RuntimeImpl& impl_of(Process* p) { return RuntimeAccess::impl(*p->runtime); }
}  // namespace

void drain_mailbox(Process* p) { impl_of(p).drain(p); }

void finish_receive(Process* p) {
  if (p->timer_id != 0 || p->timeout_fired) impl_of(p).cancel_timeout(p);
}

void set_pending_call(Process* p, Ref ref) { p->pending_call = ref; }

void set_parent(Process* child, Pid parent) { child->parent = parent; }

void ack_init(Context self, const Status& status) {
  Process* p = RuntimeAccess::process(self);
  impl_of(p).ack_init(p, status);
}

Task<Result<Pid>> start_and_await_init(Context self, Process* child, bool link) {
  if (!child) {
    co_return Status(StatusCode::kResourceExhausted, "process table full or shutting down");
  }
  Ref ref = self.runtime().make_ref();
  child->parent = self.self();
  child->init_ack = ref;
  Pid pid = start_related(RuntimeAccess::process(self), child, link, ref);
  std::optional<Result<Pid>> result;
  co_await self.receive(
      match([ref](const InitAck& a) { return a.ref == ref; },
            [&](InitAck& a) {
              if (a.status.ok()) {
                result.emplace(pid);
              } else if (a.status.code() == StatusCode::kIgnored) {
                result.emplace(Pid{});
              } else {
                result.emplace(std::move(a.status));
              }
            }),
      match([ref](const Down& d) { return d.ref == ref; },
            [&](const Down& d) {
              result.emplace(Status(StatusCode::kExited,
                                    "exited before its init was done: " + d.reason.to_string()));
            }));
  self.demonitor(ref, Flush::kYes);
  co_return std::move(*result);
}

ExitReason calling_self(Pid self) {
  return ExitReason::error(
      Term::tuple({Term::atom("calling_self"),
                   Term::tuple({Term::atom("call"), Term::binary(self.to_string())})}));
}

Pid start_related(Process* parent, Process* child, bool link, Ref monitor_ref) {
  if (!child) return Pid{};
  Pid parent_pid = parent->pid();
  Pid child_pid = child->pid();
  // The parent's side here (it is the running process); the child's side,
  // as for every new process, in RuntimeImpl::tie.
  if (link) RuntimeImpl::extras(parent).links.insert(child_pid, 1);
  if (monitor_ref) RuntimeImpl::extras(parent).monitors_out.insert(monitor_ref, child_pid);
  RuntimeImpl::tie(child, {.linked = link ? parent_pid : Pid{},
                           .monitored_by = monitor_ref ? parent_pid : Pid{},
                           .monitor_ref = monitor_ref});
  return RuntimeAccess::start(*parent->runtime, child);
}

}  // namespace detail

using detail::Envelope;
using detail::EnvelopeKind;
using detail::impl_of;
using detail::RuntimeImpl;

Status Context::forward(Pid to, Message msg) const {
  if (msg.empty()) return Status(StatusCode::kInvalidArgument, "nothing to forward");
  if (to.node != 0 && !detail::find_wire_type(msg.type())) {
    return Status(StatusCode::kBadType, "a message with no wire form cannot go to another node");
  }
  // Published at once: what this turn held back goes first (deliver keeps
  // the order of this process's sends).
  impl_of(p_).deliver(to, msg.release(), detail::Publish::kNow);
  return Status::OK();
}

Status Context::link(Pid pid) const {
  RuntimeImpl& rt = impl_of(p_);
  Pid me = self();
  if (pid == me) return Status::OK();
  detail::ProcessExtras& ex = RuntimeImpl::extras(p_);
  if (ex.links.contains(pid)) return Status::OK();
  // A remote pid's liveness is only known on its node: a link to a dead one
  // is answered with an exit signal `noproc` from there, as in Erlang.
  if (pid.node == 0 && !rt.alive(pid)) {
    if (!p_->trap_exit)
      return Status(StatusCode::kNoProc, "link to " + pid.to_string() + ": no such process");
    auto* env =
        detail::make_envelope<Exit>(EnvelopeKind::kMessage, Exit{pid, ExitReason::noproc()});
    p_->enqueue_private(env);
    return Status::OK();
  }
  ex.links.insert(pid, 1);
  rt.send_signal<detail::NoPayload>(pid, EnvelopeKind::kLink, me, Ref{});
  return Status::OK();
}

void Context::unlink(Pid pid) const {
  if (!p_->extras || !p_->extras->links.erase(pid)) return;
  impl_of(p_).send_signal<detail::NoPayload>(pid, EnvelopeKind::kUnlink, self(), Ref{});
}

Ref Context::monitor(Pid pid) const {
  RuntimeImpl& rt = impl_of(p_);
  Ref ref = runtime().make_ref();
  // As erlang:monitor(process, self()): a ref, and no monitor.
  if (pid == self()) return ref;
  // To a dead pid this comes straight back as a Down with noproc.
  rt.send_monitor(p_, ref, pid);
  return ref;
}

Ref Context::monitor(const std::string& name) const {
  RuntimeImpl& rt = impl_of(p_);
  Ref ref = runtime().make_ref();
  Pid pid = runtime().whereis(name);
  if (pid && pid == self()) return ref;  // as monitor(self())
  detail::MonitoredName by_name{
      detail::Indirect<RegisteredName>(RegisteredName{name, rt.node_name()}),
      /*remote=*/false};
  rt.send_monitor(p_, ref, pid, &by_name);  // a null pid: a Down noproc at once
  return ref;
}

Ref Context::monitor(const std::string& name, const std::string& node) const {
  RuntimeImpl& rt = impl_of(p_);
  if (node.empty() || node == rt.node_name()) return monitor(name);
  Ref ref = runtime().make_ref();
  detail::MonitoredName by_name{detail::Indirect<RegisteredName>(RegisteredName{name, node}),
                                /*remote=*/true};
  rt.send_monitor(p_, ref, Pid{}, &by_name);
  return ref;
}

bool Context::demonitor(Ref ref, Flush flush) const {
  bool active = false;
  Pid target;
  if (p_->extras && p_->extras->monitors_out.erase(ref, &target)) {
    impl_of(p_).send_demonitor(p_, ref, target);
    p_->extras->monitored_names.erase(ref);
    active = true;
  }
  if (flush == Flush::kYes) discard<Down>([ref](const Down& d) { return d.ref == ref; });
  return active;
}

size_t Context::discard_matching(TypeId type, bool (*matches)(const void* pred, detail::Envelope*),
                                 const void* pred) const {
  impl_of(p_).drain(p_);
  size_t n = 0;
  Envelope* prev = nullptr;
  for (Envelope* env = p_->queue_head; env;) {
    Envelope* next = env->next;
    if (env->kind == EnvelopeKind::kMessage && env->type == type && matches(pred, env)) {
      p_->remove_private(prev, env);
      delete env;
      ++n;
    } else {
      prev = env;
    }
    env = next;
  }
  return n;
}

void Context::exit(Pid pid, ExitReason reason) const {
  impl_of(p_).send_exit(self(), pid, std::move(reason));
}

Status Context::register_name(const std::string& name) const {
  return runtime().register_name(name, self());
}

size_t Context::flush() const {
  impl_of(p_).drain(p_);
  return p_->clear_private();
}

size_t Context::message_queue_len() const {
  impl_of(p_).drain(p_);
  return p_->queue_len();
}

}  // namespace plexus

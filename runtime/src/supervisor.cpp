#include "plexus/supervisor.h"

#include <algorithm>
#include <deque>
#include <optional>

#include "plexus/detail/init_ack.h"
#include "plexus/runtime.h"
#include "runtime_impl.h"

namespace plexus {

Task<Result<Pid>> ChildStart::operator()(Context sup) const { return fn_(sup); }

namespace req = supervisor_requests;

namespace {

struct Child {
  ChildSpec spec;
  Pid pid;
};

// A supervisor's whole state; the process body below owns it.
struct SupervisorState {
  Pid parent;  // null: started from outside any process (Runtime::exit is its parent's signal)
  bool dynamic = false;
  RestartStrategy strategy = RestartStrategy::kOneForOne;
  RestartIntensity intensity{3, 5000};
  int max_children = -1;
  std::vector<Child> children;  // in start order
};

int64_t ms_of(std::chrono::seconds s) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(s).count();
}

// Records a restart; true if that exceeds the restart intensity.
bool intensity_exceeded(Context self, SupervisorState& st) {
  return st.intensity.exceeded(self.runtime().now_ms());
}

// Stops one child by its shutdown policy, as OTP does: unlink, monitor, send
// `shutdown` (or `kill`), wait for the Down, kill after the timeout.
Task<> shutdown_child(Context self, Child& child) {
  if (!child.pid) co_return;
  Pid pid = child.pid;
  child.pid = Pid{};
  Ref ref = self.monitor(pid);
  self.unlink(pid);
  auto is_down = [ref](const Down& d) { return d.ref == ref; };
  if (child.spec.shutdown.kind == Shutdown::Kind::kBrutalKill) {
    self.exit(pid, ExitReason::kill());
    co_await self.receive(match(is_down, [](const Down&) {}));
    co_return;
  }
  self.exit(pid, ExitReason::shutdown());
  if (child.spec.shutdown.kind == Shutdown::Kind::kInfinity) {
    co_await self.receive(match(is_down, [](const Down&) {}));
    co_return;
  }
  bool down = co_await self.receive(match(is_down, [](const Down&) {}),
                                    after(child.spec.shutdown.timeout, [] {}));
  if (!down) {
    self.exit(pid, ExitReason::kill());
    co_await self.receive(match(is_down, [](const Down&) {}));
  }
}

// Stops children [from, end) in reverse start order.
Task<> shutdown_range(Context self, SupervisorState& st, size_t from) {
  for (size_t i = st.children.size(); i > from; --i)
    co_await shutdown_child(self, st.children[i - 1]);
}

// Starts one child: its pid, an OK null pid if it declined (ignore), or why it
// failed (a start that throws has failed too, as OTP catches it).
Task<Result<Pid>> start_one(Context self, const ChildSpec& spec) {
  if (!spec.start) co_return Status(StatusCode::kInvalidArgument, "child spec without a start");
  try {
    co_return co_await spec.start(self);
  } catch (...) {
    co_return Status(StatusCode::kExited, "start of '" + spec.id + "' threw: " +
                                              detail::reason_from_current_exception().to_string());
  }
}

// Starts children [from, end) in order, dropping temporary ones that are not
// running. A start that fails is retried, each failure counted as a restart.
// Returns false if the restart intensity was exceeded.
Task<bool> restart_range(Context self, SupervisorState& st, size_t from, size_t failed) {
  for (size_t i = from; i < st.children.size();) {
    Child& c = st.children[i];
    if (c.pid) {
      ++i;
      continue;
    }
    if (i != failed && c.spec.restart == Restart::kTemporary) {
      st.children.erase(st.children.begin() + static_cast<ptrdiff_t>(i));
      continue;
    }
    Result<Pid> started = co_await start_one(self, c.spec);
    if (!started.ok()) {
      self.runtime().log(LogLevel::kError,
                         "supervisor " + self.self().to_string() + ": child '" + c.spec.id +
                             "' failed to restart: " + started.status().message());
      if (intensity_exceeded(self, st)) co_return false;
      continue;  // try again
    }
    st.children[i].pid = *started;  // (a null pid: it declined)
    ++i;
  }
  co_return true;
}

// {failed_to_start_child,Id,Reason}, the detail of the shutdown a supervisor
// exits with when a child does not start.
std::string failed_to_start(const std::string& id, const Status& why) {
  return Term::tuple(
             {Term::atom("failed_to_start_child"), Term::binary(id), Term::binary(why.message())})
      .to_string();
}

ChildCounts count(const SupervisorState& st) {
  ChildCounts counts;
  for (const Child& c : st.children) {
    ++counts.specs;
    if (c.pid) ++counts.active;
    if (c.spec.supervisor) {
      ++counts.supervisors;
    } else {
      ++counts.workers;
    }
  }
  return counts;
}

std::vector<ChildInfo> infos(const SupervisorState& st) {
  std::vector<ChildInfo> out;
  out.reserve(st.children.size());
  for (const Child& c : st.children) {
    out.push_back(ChildInfo{st.dynamic ? std::string() : c.spec.id, c.pid, c.spec.supervisor});
  }
  return out;
}

// The running child with `pid` (never a child that is not running: the null
// pid names no child).
std::optional<size_t> find_by_pid(const SupervisorState& st, Pid pid) {
  if (!pid) return std::nullopt;
  for (size_t i = 0; i < st.children.size(); ++i) {
    if (st.children[i].pid == pid) return i;
  }
  return std::nullopt;
}

std::optional<size_t> find_by_id(const SupervisorState& st, const std::string& id) {
  for (size_t i = 0; i < st.children.size(); ++i) {
    if (st.children[i].spec.id == id) return i;
  }
  return std::nullopt;
}

Task<> supervisor_body(Context self, SupervisorState st) {
  self.trap_exit(true);
  for (size_t i = 0; i < st.children.size();) {
    Child& c = st.children[i];
    Result<Pid> started = co_await start_one(self, c.spec);
    if (!started.ok()) {
      std::string detail = failed_to_start(c.spec.id, started.status());
      co_await shutdown_range(self, st, 0);
      detail::ack_init(self, Status(StatusCode::kShutdown, detail));
      self.exit(ExitReason::shutdown(detail));
    }
    if (!*started && !st.dynamic && c.spec.restart == Restart::kTemporary) {
      st.children.erase(st.children.begin() + static_cast<ptrdiff_t>(i));  // ignored, gone
      continue;
    }
    st.children[i].pid = *started;
    ++i;
  }
  detail::ack_init(self, Status::OK());

  for (;;) {
    // What the handlers decided; acted on after the receive, where we may wait.
    std::optional<ExitReason> stop;
    std::optional<size_t> failed;
    std::optional<std::pair<From, size_t>> terminate;
    std::optional<std::pair<From, size_t>> restart;
    std::optional<std::pair<From, ChildSpec>> start;

    co_await self.receive(
        [&](Exit& e) {
          if (e.from == st.parent) {
            stop = e.reason;
            return;
          }
          std::optional<size_t> i = find_by_pid(st, e.from);
          if (!i) return;  // an old child we already stopped, or a stranger
          Child& c = st.children[*i];
          c.pid = Pid{};
          if (!restarts(c.spec.restart, e.reason)) {
            if (st.dynamic || c.spec.restart == Restart::kTemporary) {
              st.children.erase(st.children.begin() + static_cast<ptrdiff_t>(*i));
            }
            return;
          }
          if (intensity_exceeded(self, st)) {
            self.runtime().log(LogLevel::kError, "supervisor " + self.self().to_string() +
                                                     ": restart intensity reached, shutting down");
            stop = ExitReason::shutdown();
            return;
          }
          failed = *i;
        },
        [&](Call<req::WhichChildren>& c) { self.reply(c.from, infos(st)); },
        [&](Call<req::CountChildren>& c) { self.reply(c.from, count(st)); },
        [&](Call<req::StartChild>& c) {
          ChildSpec& spec = c.request.spec;
          if (!st.dynamic && find_by_id(st, spec.id)) {
            self.reply(c.from, Result<Pid>(Status(StatusCode::kAlreadyExists,
                                                  "child '" + spec.id + "' exists")));
            return;
          }
          if (st.dynamic && st.max_children >= 0 &&
              static_cast<int>(st.children.size()) >= st.max_children) {
            self.reply(c.from,
                       Result<Pid>(Status(StatusCode::kResourceExhausted, "max_children reached")));
            return;
          }
          start.emplace(c.from, std::move(spec));
        },
        [&](Call<req::TerminateChild>& c) {
          std::optional<size_t> i =
              st.dynamic ? find_by_pid(st, c.request.pid) : find_by_id(st, c.request.id);
          if (!i) {
            self.reply(c.from, Result<bool>(Status(StatusCode::kNotFound, "no such child")));
            return;
          }
          terminate.emplace(c.from, *i);
        },
        [&](Call<req::RestartChild>& c) {
          std::optional<size_t> i = st.dynamic ? std::nullopt : find_by_id(st, c.request.id);
          if (!i) {
            self.reply(c.from, Result<Pid>(Status(StatusCode::kNotFound, "no such child")));
          } else if (st.children[*i].pid) {
            self.reply(c.from, Result<Pid>(Status(StatusCode::kAlreadyExists, "child is running")));
          } else {
            restart.emplace(c.from, *i);
          }
        },
        [&](Call<req::DeleteChild>& c) {
          std::optional<size_t> i = st.dynamic ? std::nullopt : find_by_id(st, c.request.id);
          if (!i) {
            self.reply(c.from, Result<bool>(Status(StatusCode::kNotFound, "no such child")));
          } else if (st.children[*i].pid) {
            self.reply(c.from,
                       Result<bool>(Status(StatusCode::kAlreadyExists, "child is running")));
          } else {
            st.children.erase(st.children.begin() + static_cast<ptrdiff_t>(*i));
            self.reply(c.from, Result<bool>(true));
          }
        });

    if (stop) {
      co_await shutdown_range(self, st, 0);
      self.exit(*stop);
    }
    if (start) {
      auto& [from, spec] = *start;
      Result<Pid> started = co_await start_one(self, spec);
      // A spec whose start failed is not kept; one that declined is kept
      // (not running) by a static supervisor, as OTP does.
      if (started.ok() && (*started || !st.dynamic)) {
        st.children.push_back(Child{std::move(spec), *started});
      }
      self.reply(from, std::move(started));
    }
    if (terminate) {
      auto [from, i] = *terminate;
      co_await shutdown_child(self, st.children[i]);
      // A temporary child's spec goes with it (restart_child then finds none).
      if (st.dynamic || st.children[i].spec.restart == Restart::kTemporary) {
        st.children.erase(st.children.begin() + static_cast<ptrdiff_t>(i));
      }
      self.reply(from, Result<bool>(true));
    }
    if (restart) {
      auto [from, i] = *restart;
      Result<Pid> started = co_await start_one(self, st.children[i].spec);
      if (started.ok()) st.children[i].pid = *started;
      self.reply(from, std::move(started));
    }
    if (failed) {
      size_t i = *failed;
      size_t first = i;
      switch (st.dynamic ? RestartStrategy::kOneForOne : st.strategy) {
        case RestartStrategy::kOneForOne:
          break;
        case RestartStrategy::kOneForAll:
          co_await shutdown_range(self, st, 0);
          first = 0;
          break;
        case RestartStrategy::kRestForOne:
          co_await shutdown_range(self, st, i + 1);
          break;
      }
      if (!co_await restart_range(self, st, first, i)) {
        co_await shutdown_range(self, st, 0);
        self.exit(ExitReason::shutdown());
      }
    }
  }
}

SupervisorState make_state(Pid parent, SupervisorFlags flags, std::vector<ChildSpec> children) {
  SupervisorState st;
  st.parent = parent;
  st.strategy = flags.strategy;
  st.intensity = RestartIntensity(flags.max_restarts, ms_of(flags.max_seconds));
  for (ChildSpec& spec : children) st.children.push_back(Child{std::move(spec), Pid{}});
  return st;
}

SupervisorState make_dynamic_state(Pid parent, DynamicSupervisorFlags flags) {
  SupervisorState st;
  st.parent = parent;
  st.dynamic = true;
  st.intensity = RestartIntensity(flags.max_restarts, ms_of(flags.max_seconds));
  st.max_children = flags.max_children;
  return st;
}

// Calls a supervisor whose reply is itself a Result, and unwraps it. The
// request arrives as a named parameter: the helpers below pass temporaries to
// a plain function, never inside a co_await (see the GCC 12 note in
// CMakeLists.txt).
template <class T, class Req>
Task<Result<T>> call_unwrapped(Context self, Pid sup, Req request) {
  Result<Result<T>> r = co_await self.call<Result<T>>(sup, std::move(request));
  if (!r.ok()) co_return r.status();
  co_return std::move(r).value();
}

}  // namespace

Pid start_supervisor(Context parent, SupervisorFlags flags, std::vector<ChildSpec> children) {
  return parent.spawn_link(supervisor_body, make_state(parent.self(), flags, std::move(children)));
}

Pid start_supervisor(Runtime& runtime, SupervisorFlags flags, std::vector<ChildSpec> children) {
  return runtime.spawn(supervisor_body, make_state(Pid{}, flags, std::move(children)));
}

Pid start_dynamic_supervisor(Context parent, DynamicSupervisorFlags flags) {
  return parent.spawn_link(supervisor_body, make_dynamic_state(parent.self(), flags));
}

Pid start_dynamic_supervisor(Runtime& runtime, DynamicSupervisorFlags flags) {
  return runtime.spawn(supervisor_body, make_dynamic_state(Pid{}, flags));
}

bool restarts(Restart restart, const ExitReason& reason) {
  bool shutdown = reason.is_normal() || reason.kind() == ExitReason::Kind::kShutdown;
  switch (restart) {
    case Restart::kPermanent:
      return true;
    case Restart::kTransient:
      return !shutdown;
    case Restart::kTemporary:
      return false;
  }
  return false;
}

bool RestartIntensity::exceeded(int64_t now_ms) {
  times_.push_back(now_ms);
  while (!times_.empty() && times_.front() <= now_ms - period_ms_) times_.pop_front();
  return static_cast<int>(times_.size()) > max_restarts_;
}

namespace supervisor {

Task<Result<Pid>> start_link(Context parent, SupervisorFlags flags,
                             std::vector<ChildSpec> children) {
  return detail::start_and_await_init(
      parent,
      detail::RuntimeAccess::make_process(parent.runtime(), supervisor_body,
                                          make_state(parent.self(), flags, std::move(children))),
      true);
}

Task<Result<Pid>> start_dynamic_link(Context parent, DynamicSupervisorFlags flags) {
  return detail::start_and_await_init(
      parent,
      detail::RuntimeAccess::make_process(parent.runtime(), supervisor_body,
                                          make_dynamic_state(parent.self(), flags)),
      true);
}

ChildStart child(SupervisorFlags flags, std::vector<ChildSpec> children) {
  return ChildStart([flags, children](Context sup) { return start_link(sup, flags, children); });
}

ChildStart dynamic_child(DynamicSupervisorFlags flags) {
  return ChildStart([flags](Context sup) { return start_dynamic_link(sup, flags); });
}

Task<Result<Pid>> start_child(Context self, Pid sup, ChildSpec spec) {
  return call_unwrapped<Pid>(self, sup, req::StartChild{std::move(spec)});
}

Task<Result<bool>> terminate_child(Context self, Pid sup, std::string id) {
  return call_unwrapped<bool>(self, sup, req::TerminateChild{std::move(id), Pid{}});
}

Task<Result<bool>> terminate_child(Context self, Pid sup, Pid child) {
  return call_unwrapped<bool>(self, sup, req::TerminateChild{std::string(), child});
}

Task<Result<Pid>> restart_child(Context self, Pid sup, std::string id) {
  return call_unwrapped<Pid>(self, sup, req::RestartChild{std::move(id)});
}

Task<Result<bool>> delete_child(Context self, Pid sup, std::string id) {
  return call_unwrapped<bool>(self, sup, req::DeleteChild{std::move(id)});
}

Task<Result<std::vector<ChildInfo>>> which_children(Context self, Pid sup) {
  return self.call<std::vector<ChildInfo>>(sup, req::WhichChildren{});
}

Task<Result<ChildCounts>> count_children(Context self, Pid sup) {
  return self.call<ChildCounts>(sup, req::CountChildren{});
}

}  // namespace supervisor
}  // namespace plexus

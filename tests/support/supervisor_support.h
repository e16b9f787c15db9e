// The supervisor tests' vocabulary: child bodies that report to an
// observer, specs made of them, and a fixture with the supervisor client
// calls made from fresh processes (supervisor_test.cpp,
// supervisor_start_test.cpp).
#pragma once

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {

using plexus::ChildCounts;
using plexus::ChildInfo;
using plexus::ChildSpec;
using plexus::DynamicSupervisorFlags;
using plexus::Restart;
using plexus::RestartStrategy;
using plexus::Result;
using plexus::Shutdown;
using plexus::SupervisorFlags;

namespace sup = plexus::supervisor;

struct Started {
  std::string id;
  Pid pid;
};
struct Ready {
  std::string id;
  Pid pid;
};
struct Stopped {
  std::string id;
  ExitReason reason;
};
struct Crash {
  ExitReason reason;
};
struct Quit {};

struct Behaviour {
  bool ignore_shutdown = false;  // report the supervisor's Exit but keep running
};

inline Task<> child_body(Context self, std::string id, Pid observer, Pid supervisor, Behaviour b) {
  self.trap_exit(true);
  self.send(observer, Ready{id, self.self()});
  for (;;) {
    std::optional<ExitReason> exit_with;
    bool quit = false;
    co_await self.receive(
        [&](Exit& e) {
          if (e.from != supervisor) return;
          self.send(observer, Stopped{id, e.reason});
          if (!b.ignore_shutdown) exit_with = e.reason;
        },
        [&](Crash& c) { exit_with = c.reason; }, [&](Quit&) { quit = true; });
    if (exit_with) self.exit(*exit_with);
    if (quit) co_return;
  }
}

inline ChildSpec worker_spec(const std::string& id, Pid observer,
                             Restart restart = Restart::kPermanent, Behaviour b = {},
                             Shutdown shutdown = Shutdown::after(5s)) {
  ChildSpec spec;
  spec.id = id;
  spec.start = [id, observer, b](Context s) {
    Pid pid = s.spawn_link(child_body, id, observer, s.self(), b);
    s.send(observer, Started{id, pid});
    return pid;
  };
  spec.restart = restart;
  spec.shutdown = shutdown;
  return spec;
}

class SupervisorTestBase : public SchedTest {
 protected:
  // The next (re)start: checks its id, waits until the child runs.
  Pid await_start(Inbox& inbox, const std::string& id) {
    Started s = must_receive<Started>(inbox);
    EXPECT_EQ(s.id, id);
    await_ready(inbox, s.pid);
    return s.pid;
  }

  void await_ready(Inbox& inbox, Pid pid) {
    bool got = inbox.receive(
        plexus::match([pid](const Ready& r) { return r.pid == pid; }, [](const Ready&) {}),
        plexus::after(kWait, [] {}));
    if (!got) throw std::runtime_error("child " + pid.to_string() + " never ran");
  }

  std::vector<ChildInfo> which(Inbox& inbox, Pid s) {
    auto r = run_in_process<Result<std::vector<ChildInfo>>>(
        rt(), inbox, [s](Context self) { return sup::which_children(self, s); });
    if (!r) throw std::runtime_error("which_children did not return");
    if (!r->ok()) throw std::runtime_error("which_children: " + r->status().to_string());
    return r->value();
  }

  ChildCounts counts(Inbox& inbox, Pid s) {
    auto r = run_in_process<Result<ChildCounts>>(
        rt(), inbox, [s](Context self) { return sup::count_children(self, s); });
    if (!r) throw std::runtime_error("count_children did not return");
    if (!r->ok()) throw std::runtime_error("count_children: " + r->status().to_string());
    return r->value();
  }

  // The other client calls, each made from a fresh process: the call's
  // result, or nothing if that process never reported.
  std::optional<Result<Pid>> start_child(Inbox& inbox, Pid s, ChildSpec spec) {
    return run_in_process<Result<Pid>>(
        rt(), inbox, [s, spec](Context self) { return sup::start_child(self, s, spec); });
  }

  std::optional<Result<Pid>> restart_child(Inbox& inbox, Pid s, std::string id) {
    return run_in_process<Result<Pid>>(
        rt(), inbox, [s, id](Context self) { return sup::restart_child(self, s, id); });
  }

  std::optional<Result<bool>> terminate_child(Inbox& inbox, Pid s, std::string id) {
    return run_in_process<Result<bool>>(
        rt(), inbox, [s, id](Context self) { return sup::terminate_child(self, s, id); });
  }

  // Under a DynamicSupervisor, children are named by pid.
  std::optional<Result<bool>> terminate_child(Inbox& inbox, Pid s, Pid child) {
    return run_in_process<Result<bool>>(
        rt(), inbox, [s, child](Context self) { return sup::terminate_child(self, s, child); });
  }

  std::optional<Result<bool>> delete_child(Inbox& inbox, Pid s, std::string id) {
    return run_in_process<Result<bool>>(
        rt(), inbox, [s, id](Context self) { return sup::delete_child(self, s, id); });
  }

  // Polls which_children until `pred` holds (the supervisor handles a
  // child's exit asynchronously to the test's requests).
  bool wait_children(Inbox& inbox, Pid s,
                     const std::function<bool(const std::vector<ChildInfo>&)>& pred) {
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (std::chrono::steady_clock::now() < deadline) {
      if (pred(which(inbox, s))) return true;
    }
    return false;
  }

  static std::optional<ChildInfo> find(const std::vector<ChildInfo>& children,
                                       const std::string& id) {
    for (const ChildInfo& c : children) {
      if (c.id == id) return c;
    }
    return std::nullopt;
  }

  static std::vector<std::string> ids(const std::vector<ChildInfo>& children) {
    std::vector<std::string> out;
    for (const ChildInfo& c : children) out.push_back(c.id);
    return out;
  }

  // Starts a supervisor whose parent is `inbox` (made to trap exits), and
  // waits for the children to run; returns their pids in start order.
  Pid start(Inbox& inbox, SupervisorFlags flags, std::vector<ChildSpec> specs,
            std::vector<Pid>* pids) {
    inbox.context().trap_exit(true);
    std::vector<std::string> names;
    for (const ChildSpec& s : specs) names.push_back(s.id);
    Pid s = plexus::start_supervisor(inbox.context(), flags, std::move(specs));
    if (!s) throw std::runtime_error("start_supervisor returned the null pid");
    for (const std::string& id : names) pids->push_back(await_start(inbox, id));
    return s;
  }

  // Starts a DynamicSupervisor whose parent is `inbox` (made to trap exits).
  Pid start_dynamic(Inbox& inbox, DynamicSupervisorFlags flags) {
    inbox.context().trap_exit(true);
    return plexus::start_dynamic_supervisor(inbox.context(), flags);
  }
};

}  // namespace plexus_test

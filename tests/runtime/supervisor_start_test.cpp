// Supervisors starting their children as OTP's do: a Server child's init()
// is waited for, and its error (or a start that throws) is a failed start,
// never a crashed child; `ignore` keeps a static spec that is not running;
// an exit signal from outside any process stops a top-level supervisor and
// restarts nothing; a terminated temporary child leaves no spec.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "plexus/plexus.h"
#include "probe_server.h"
#include "supervisor_support.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::Status;

class SupervisorStartTest : public SupervisorTestBase {
 protected:
  static ChildSpec probe_spec(const std::string& id, Pid observer, ProbeOptions options,
                              Restart restart = Restart::kPermanent) {
    ChildSpec spec;
    spec.id = id;
    spec.start = plexus::server_child<Probe>(observer, options);
    spec.restart = restart;
    return spec;
  }
  static Status bad_init() { return Status(StatusCode::kInvalidArgument, "bad config"); }

  struct Linked {
    plexus::Result<Pid> started;
  };
  struct Go {};
  // Starts a supervisor with start_link from a process that then stays
  // (its exit would stop the supervisor, its parent); returns the result.
  plexus::Result<Pid> start_link(Inbox& inbox, std::vector<ChildSpec> specs) {
    Pid to = inbox.pid();
    rt().spawn([to, specs](Context self) -> Task<> {
      plexus::Result<Pid> r = co_await sup::start_link(self, {}, specs);
      self.send(to, Linked{r});
      co_await self.receive<Go>();
    });
    return must_receive<Linked>(inbox).started;
  }
};

// The supervisor's shutdown reaches a trapping Server child as its parent's
// exit: terminate() runs, well within the child's shutdown timeout.
TEST_P(SupervisorStartTest, ATrappingServerChildRunsTerminateOnTheSupervisorsShutdown) {
  Inbox inbox(rt());
  ChildSpec spec = probe_spec("s", inbox.pid(), {.trap_exit = true});
  spec.shutdown = Shutdown::after(60s);
  Pid s = plexus::start_supervisor(rt(), {}, {spec});
  Pid child = must_receive<InitRan>(inbox).pid;
  Ref ref = inbox.context().monitor(s);
  int64_t start = rt().now_ms();
  rt().exit(s, ExitReason::shutdown());
  Terminated t = must_receive<Terminated>(inbox);
  EXPECT_EQ(t.pid, child);
  EXPECT_EQ(t.reason, ExitReason::shutdown());
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::shutdown());
  EXPECT_LT(rt().now_ms() - start, 60'000) << "the child was killed after its timeout";
}

TEST_P(SupervisorStartTest, AChildWhoseInitFailsIsNotStartedAndTheSupervisorLives) {
  Inbox inbox(rt());
  Pid s = start_dynamic(inbox, {.max_restarts = 0});
  auto good = start_child(inbox, s, probe_spec("", inbox.pid(), {}));
  ASSERT_TRUE(good && good->ok());
  for (int i = 0; i < 3; ++i) {
    auto bad = start_child(inbox, s, probe_spec("", inbox.pid(), {.init = bad_init()}));
    ASSERT_TRUE(bad.has_value());
    ASSERT_FALSE(bad->ok());
    EXPECT_NE(bad->status().message().find("bad config"), std::string::npos) << bad->status();
  }
  // One attempt each, and no restart counted: with max_restarts 0 the
  // supervisor would have died at the first.
  EXPECT_TRUE(rt().alive(s));
  EXPECT_TRUE(rt().alive(**good));
  EXPECT_EQ(counts(inbox, s).active, 1);
  EXPECT_TRUE(nothing_of_type<Exit>(inbox)) << "the supervisor exited";
}

TEST_P(SupervisorStartTest, AtItsStartAChildThatFailsStopsTheSupervisorWithFailedToStartChild) {
  Inbox inbox(rt());
  plexus::Result<Pid> r =
      start_link(inbox, {probe_spec("first", inbox.pid(), {.trap_exit = true}),
                         probe_spec("second", inbox.pid(), {.init = bad_init()})});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("failed_to_start_child"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("second"), std::string::npos) << r.status();
  // The child started before it was stopped in order.
  Pid first = must_receive<InitRan>(inbox).pid;
  Terminated t = must_receive<Terminated>(inbox);
  EXPECT_EQ(t.pid, first);
  EXPECT_EQ(t.reason, ExitReason::shutdown());
}

TEST_P(SupervisorStartTest, StartLinkReturnsOnceEveryChildRuns) {
  Inbox inbox(rt());
  plexus::Result<Pid> r =
      start_link(inbox, {probe_spec("a", inbox.pid(), {}), probe_spec("b", inbox.pid(), {})});
  ASSERT_TRUE(r.ok()) << r.status();
  must_receive<InitRan>(inbox);
  must_receive<InitRan>(inbox);
  std::vector<ChildInfo> children = which(inbox, *r);
  ASSERT_EQ(children.size(), 2u);
  for (const ChildInfo& c : children) EXPECT_TRUE(c.pid) << c.id;
}

TEST_P(SupervisorStartTest, AStartThatThrowsIsAFailedStart) {
  Inbox inbox(rt());
  Pid s = start_dynamic(inbox, {.max_restarts = 0});
  ChildSpec spec;
  spec.start = [](Context) -> Pid { throw std::runtime_error("no luck"); };
  auto r = start_child(inbox, s, spec);
  ASSERT_TRUE(r.has_value());
  ASSERT_FALSE(r->ok());
  EXPECT_NE(r->status().message().find("no luck"), std::string::npos) << r->status();
  EXPECT_TRUE(rt().alive(s));
}

// A restart whose start throws is retried, each failure counted against
// the intensity, until the supervisor gives up (with shutdown, not the
// exception).
TEST_P(SupervisorStartTest, ARestartThatThrowsIsRetriedAndCounted) {
  Inbox inbox(rt());
  auto starts = std::make_shared<int>(0);
  ChildSpec spec;
  spec.id = "w";
  spec.start = [starts, observer = inbox.pid()](Context sup) -> Pid {
    if (++*starts > 1) throw std::runtime_error("no luck");
    Pid pid = sup.spawn_link(child_body, std::string("w"), observer, sup.self(), Behaviour{});
    sup.send(observer, Started{"w", pid});
    return pid;
  };
  std::vector<Pid> pids;
  Pid s = start(inbox, {.max_restarts = 3, .max_seconds = 60s}, {spec}, &pids);
  Ref ref = inbox.context().monitor(s);
  rt().send(pids[0], Crash{ExitReason::error("boom")});
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::shutdown());
  EXPECT_EQ(*starts, 4) << "the first start, then three failed restarts: the fourth restart "
                           "exceeds the intensity";
}

// An exit signal from outside any process is not from a child: it restarts
// nothing (a stopped child's null pid names no child), and a supervisor that
// has a parent ignores it.
TEST_P(SupervisorStartTest, AnExitFromOutsideRestartsNoStoppedChild) {
  Inbox inbox(rt());
  inbox.context().trap_exit(true);
  Pid s = plexus::start_supervisor(
      inbox.context(), {},
      {probe_spec("ignored", inbox.pid(), {.init = plexus::Server::ignore()})});
  must_receive<InitRan>(inbox);
  rt().exit(s, ExitReason::error("from outside"));
  rt().exit(s, ExitReason::shutdown());
  std::vector<ChildInfo> children = which(inbox, s);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_FALSE(children[0].pid);
  EXPECT_TRUE(nothing_of_type<InitRan>(inbox)) << "the ignored child was started again";
  EXPECT_TRUE(rt().alive(s));
}

TEST_P(SupervisorStartTest, ATopLevelSupervisorStopsOnRuntimeExit) {
  Inbox inbox(rt());
  Pid s = plexus::start_supervisor(rt(), {}, {worker_spec("w", inbox.pid())});
  Pid w = await_start(inbox, "w");
  Ref ref = inbox.context().monitor(s);
  rt().exit(s, ExitReason::shutdown());
  Stopped stopped = must_receive<Stopped>(inbox);
  EXPECT_EQ(stopped.id, "w");
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::shutdown());
  EXPECT_FALSE(rt().alive(w));
}

TEST_P(SupervisorStartTest, TerminatingATemporaryChildDeletesItsSpec) {
  Inbox inbox(rt());
  std::vector<Pid> pids;
  Pid s = start(inbox, {}, {worker_spec("t", inbox.pid(), Restart::kTemporary)}, &pids);
  auto terminated = terminate_child(inbox, s, std::string("t"));
  ASSERT_TRUE(terminated && terminated->ok());
  EXPECT_TRUE(which(inbox, s).empty());
  auto restarted = restart_child(inbox, s, "t");
  ASSERT_TRUE(restarted.has_value());
  EXPECT_EQ(restarted->status().code(), StatusCode::kNotFound);
}

// OTP's `ignore`: a static supervisor keeps the spec, not running, and
// answers start_child with an OK null pid; restart_child tries again.
TEST_P(SupervisorStartTest, AChildThatIgnoresIsKeptNotRunning) {
  Inbox inbox(rt());
  std::vector<Pid> pids;
  Pid s = start(inbox, {}, {}, &pids);
  auto r = start_child(inbox, s, probe_spec("i", inbox.pid(), {.init = plexus::Server::ignore()}));
  ASSERT_TRUE(r && r->ok());
  EXPECT_FALSE(**r);
  must_receive<InitRan>(inbox);
  std::vector<ChildInfo> children = which(inbox, s);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].id, "i");
  EXPECT_FALSE(children[0].pid);
  auto again = restart_child(inbox, s, "i");
  ASSERT_TRUE(again && again->ok());
  EXPECT_FALSE(**again);
  must_receive<InitRan>(inbox);
}

TEST_P(SupervisorStartTest, ADynamicChildThatIgnoresLeavesNothing) {
  Inbox inbox(rt());
  Pid s = start_dynamic(inbox, {});
  auto r = start_child(inbox, s, probe_spec("", inbox.pid(), {.init = plexus::Server::ignore()}));
  ASSERT_TRUE(r && r->ok());
  EXPECT_FALSE(**r);
  EXPECT_EQ(counts(inbox, s).specs, 0);
}

PLEXUS_INSTANTIATE_SCHEDULERS(SupervisorStartTest);

}  // namespace
}  // namespace plexus_test

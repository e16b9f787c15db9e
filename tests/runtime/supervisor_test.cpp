// Supervisors: one_for_one, one_for_all and rest_for_one restarts; permanent,
// transient and temporary children; restart intensity; orderly shutdown in
// reverse start order (with timeout then kill); DynamicSupervisor.
//
// The test's inbox is the supervisor's parent and traps exits, so it sees the
// supervisor's own exit as an Exit message. Every child traps exits and
// reports the Exit its supervisor sends it (Stopped), which records the order
// of terminations; each start function reports Started from inside the
// supervisor, which records the order of (re)starts. (Synchronous starts,
// init failures, ignore and exits from outside: supervisor_start_test.cpp.)
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "plexus/plexus.h"
#include "supervisor_support.h"
#include "test_support.h"

namespace plexus_test {
namespace {

class SupervisorTest : public SupervisorTestBase {};

TEST_P(SupervisorTest, OneForOneRestartsOnlyTheFailedChild) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  Pid s = start(inbox, {.strategy = RestartStrategy::kOneForOne},
                {worker_spec("a", me), worker_spec("b", me), worker_spec("c", me)}, &pids);

  rt().send(pids[1], Crash{ExitReason::error("b failed")});
  Pid b2 = await_start(inbox, "b");
  EXPECT_NE(b2, pids[1]);
  EXPECT_FALSE(rt().alive(pids[1]));

  std::vector<ChildInfo> children = which(inbox, s);
  ASSERT_EQ(ids(children), (std::vector<std::string>{"a", "b", "c"}));
  EXPECT_EQ(children[0].pid, pids[0]);
  EXPECT_EQ(children[1].pid, b2);
  EXPECT_EQ(children[2].pid, pids[2]);
  // The reply came after anything the restart sent: no other start happened.
  EXPECT_FALSE(inbox.receive<Started>(0ms).has_value());
  EXPECT_TRUE(nothing_of_type<Stopped>(inbox));
  EXPECT_TRUE(rt().alive(pids[0]));
  EXPECT_TRUE(rt().alive(pids[2]));
}

TEST_P(SupervisorTest, OneForAllStopsOthersInReverseOrderAndRestartsAllInStartOrder) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  start(inbox, {.strategy = RestartStrategy::kOneForAll},
        {worker_spec("a", me), worker_spec("b", me), worker_spec("c", me)}, &pids);

  rt().send(pids[1], Crash{ExitReason::error("b failed")});
  Stopped first = must_receive<Stopped>(inbox);
  Stopped second = must_receive<Stopped>(inbox);
  EXPECT_EQ(first.id, "c");
  EXPECT_EQ(second.id, "a");
  EXPECT_EQ(first.reason, ExitReason::shutdown());
  EXPECT_EQ(second.reason, ExitReason::shutdown());

  std::vector<Pid> fresh;
  for (const char* id : {"a", "b", "c"}) fresh.push_back(await_start(inbox, id));
  for (int i = 0; i < 3; ++i) {
    EXPECT_NE(fresh[i], pids[i]);
    EXPECT_FALSE(rt().alive(pids[i]));
    EXPECT_TRUE(rt().alive(fresh[i]));
  }
}

TEST_P(SupervisorTest, RestForOneRestartsFailedAndLaterChildrenInOrder) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  Pid s = start(
      inbox, {.strategy = RestartStrategy::kRestForOne},
      {worker_spec("a", me), worker_spec("b", me), worker_spec("c", me), worker_spec("d", me)},
      &pids);

  rt().send(pids[1], Crash{ExitReason::error("b failed")});
  Stopped first = must_receive<Stopped>(inbox);
  Stopped second = must_receive<Stopped>(inbox);
  EXPECT_EQ(first.id, "d");
  EXPECT_EQ(second.id, "c");
  for (const char* id : {"b", "c", "d"}) await_start(inbox, id);

  std::vector<ChildInfo> children = which(inbox, s);
  ASSERT_EQ(ids(children), (std::vector<std::string>{"a", "b", "c", "d"}));
  EXPECT_EQ(children[0].pid, pids[0]) << "a started before b: untouched";
  EXPECT_TRUE(rt().alive(pids[0]));
  EXPECT_FALSE(inbox.receive<Started>(0ms).has_value());
  EXPECT_FALSE(inbox.receive<Stopped>(0ms).has_value());
}

TEST_P(SupervisorTest, TransientChildIsRestartedOnlyAfterAbnormalExit) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  Pid s = start(
      inbox, {.strategy = RestartStrategy::kOneForOne},
      {worker_spec("quits", me, Restart::kTransient), worker_spec("shuts", me, Restart::kTransient),
       worker_spec("fails", me, Restart::kTransient)},
      &pids);

  rt().send(pids[0], Quit{});
  rt().send(pids[1], Crash{ExitReason::shutdown("done")});
  EXPECT_TRUE(wait_children(inbox, s, [](const std::vector<ChildInfo>& c) {
    auto q = find(c, "quits");
    auto h = find(c, "shuts");
    return q && !q->pid && h && !h->pid;
  })) << "normal and {shutdown, _} exits of transient children must leave them stopped";

  rt().send(pids[2], Crash{ExitReason::error("boom")});
  Pid again = await_start(inbox, "fails");
  EXPECT_NE(again, pids[2]);
  // Only "fails" was restarted.
  std::vector<ChildInfo> children = which(inbox, s);
  EXPECT_FALSE(inbox.receive<Started>(0ms).has_value());
  ASSERT_EQ(ids(children), (std::vector<std::string>{"quits", "shuts", "fails"}));
  EXPECT_FALSE(children[0].pid.valid());
  EXPECT_FALSE(children[1].pid.valid());
  EXPECT_EQ(children[2].pid, again);
  ChildCounts n = counts(inbox, s);
  EXPECT_EQ(n.specs, 3);
  EXPECT_EQ(n.active, 1);
}

TEST_P(SupervisorTest, PermanentChildIsRestartedEvenAfterNormalExit) {
  Inbox inbox(rt());
  std::vector<Pid> pids;
  start(inbox, {}, {worker_spec("p", inbox.pid())}, &pids);
  rt().send(pids[0], Quit{});
  Pid again = await_start(inbox, "p");
  EXPECT_NE(again, pids[0]);
}

TEST_P(SupervisorTest, TemporaryChildIsNeverRestartedAndIsForgotten) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  Pid s = start(inbox, {}, {worker_spec("keep", me), worker_spec("temp", me, Restart::kTemporary)},
                &pids);
  rt().send(pids[1], Crash{ExitReason::error("temp failed")});
  EXPECT_TRUE(wait_children(inbox, s, [](const std::vector<ChildInfo>& c) {
    return !find(c, "temp").has_value();
  })) << "OTP deletes a temporary child's spec when it exits";
  EXPECT_FALSE(inbox.receive<Started>(0ms).has_value());
  ChildCounts n = counts(inbox, s);
  EXPECT_EQ(n.specs, 1);
  EXPECT_EQ(n.active, 1);
}

TEST_P(SupervisorTest, OneForAllDoesNotRestartTemporarySibling) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  start(inbox, {.strategy = RestartStrategy::kOneForAll},
        {worker_spec("a", me), worker_spec("temp", me, Restart::kTemporary)}, &pids);
  rt().send(pids[0], Crash{ExitReason::error("a failed")});
  Stopped stopped = must_receive<Stopped>(inbox);
  EXPECT_EQ(stopped.id, "temp");
  await_start(inbox, "a");
  EXPECT_TRUE(nothing_of_type<Started>(inbox)) << "the temporary sibling was restarted";
}

TEST_P(SupervisorTest, ExceedingRestartIntensityShutsSupervisorDown) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  Pid s =
      start(inbox, {.strategy = RestartStrategy::kOneForOne, .max_restarts = 2, .max_seconds = 5s},
            {worker_spec("steady", me), worker_spec("flaky", me)}, &pids);
  Pid flaky = pids[1];
  for (int restart = 0; restart < 2; ++restart) {
    rt().send(flaky, Crash{ExitReason::error("again")});
    flaky = await_start(inbox, "flaky");
  }
  rt().send(flaky, Crash{ExitReason::error("once too often")});

  Stopped steady = must_receive<Stopped>(inbox);
  EXPECT_EQ(steady.id, "steady");
  EXPECT_EQ(steady.reason, ExitReason::shutdown());
  Exit e = must_receive<Exit>(inbox);
  EXPECT_EQ(e.from, s);
  EXPECT_EQ(e.reason, ExitReason::shutdown());
  EXPECT_FALSE(rt().alive(s));
  EXPECT_FALSE(inbox.receive<Started>(0ms).has_value()) << "no third restart";
  EXPECT_FALSE(rt().alive(pids[0]));
}

TEST_P(SupervisorTest, RestartsOutsideTheWindowDoNotCount) {
  if (!deterministic()) GTEST_SKIP() << "needs virtual time to step past max_seconds";
  Inbox inbox(rt());
  std::vector<Pid> pids;
  Pid s =
      start(inbox, {.max_restarts = 1, .max_seconds = 1s}, {worker_spec("w", inbox.pid())}, &pids);
  Pid w = pids[0];
  for (int i = 0; i < 4; ++i) {
    rt().send(w, Crash{ExitReason::error("spaced")});
    w = await_start(inbox, "w");
    rt().advance_time(1500ms);
  }
  EXPECT_TRUE(rt().alive(s));
  EXPECT_FALSE(inbox.receive<Exit>(0ms).has_value());
}

TEST_P(SupervisorTest, ShutdownStopsChildrenInReverseStartOrder) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  Pid s =
      start(inbox, {}, {worker_spec("a", me), worker_spec("b", me), worker_spec("c", me)}, &pids);
  inbox.context().exit(s, ExitReason::shutdown());
  std::vector<std::string> order;
  for (int i = 0; i < 3; ++i) {
    Stopped st = must_receive<Stopped>(inbox);
    EXPECT_EQ(st.reason, ExitReason::shutdown()) << st.id;
    order.push_back(st.id);
  }
  EXPECT_EQ(order, (std::vector<std::string>{"c", "b", "a"}));
  Exit e = must_receive<Exit>(inbox);
  EXPECT_EQ(e.from, s);
  EXPECT_EQ(e.reason, ExitReason::shutdown());
  for (Pid pid : pids) EXPECT_FALSE(rt().alive(pid));
  EXPECT_FALSE(inbox.receive<Started>(0ms).has_value()) << "children restarted during shutdown";
}

TEST_P(SupervisorTest, ChildIgnoringShutdownIsKilledAfterTimeout) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  Pid s = start(inbox, {},
                {worker_spec("stubborn", me, Restart::kPermanent, {.ignore_shutdown = true},
                             Shutdown::after(100ms)),
                 worker_spec("polite", me)},
                &pids);
  Ref stubborn = inbox.context().monitor(pids[0]);
  Ref polite = inbox.context().monitor(pids[1]);
  int64_t shutdown_at = rt().now_ms();  // the kill timer starts after this
  inbox.context().exit(s, ExitReason::shutdown());

  EXPECT_EQ(must_receive<Stopped>(inbox).id, "polite");
  EXPECT_EQ(must_receive_down(inbox, polite).reason, ExitReason::shutdown());
  Stopped asked = must_receive<Stopped>(inbox);
  EXPECT_EQ(asked.id, "stubborn");
  Down killed = must_receive_down(inbox, stubborn);
  EXPECT_EQ(killed.reason, ExitReason::killed());
  int64_t waited = rt().now_ms() - shutdown_at;
  EXPECT_TRUE(matches_wait(waited, 100));
  Exit e = must_receive<Exit>(inbox);
  EXPECT_EQ(e.from, s);
  EXPECT_EQ(e.reason, ExitReason::shutdown());
}

TEST_P(SupervisorTest, BrutalKillKillsWithoutShutdownSignal) {
  Inbox inbox(rt());
  std::vector<Pid> pids;
  Pid s =
      start(inbox, {},
            {worker_spec("victim", inbox.pid(), Restart::kPermanent, {}, Shutdown::brutal_kill())},
            &pids);
  Ref ref = inbox.context().monitor(pids[0]);
  inbox.context().exit(s, ExitReason::shutdown());
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::killed());
  EXPECT_EQ(must_receive<Exit>(inbox).from, s);
  EXPECT_FALSE(inbox.receive<Stopped>(0ms).has_value());
}

TEST_P(SupervisorTest, FailedChildStartStopsStartedChildrenAndSupervisor) {
  Inbox inbox(rt());
  inbox.context().trap_exit(true);
  ChildSpec bad;
  bad.id = "bad";
  bad.start = [](Context) { return Pid{}; };
  Pid s = plexus::start_supervisor(inbox.context(), {}, {worker_spec("good", inbox.pid()), bad});
  Pid good = await_start(inbox, "good");
  Stopped st = must_receive<Stopped>(inbox);
  EXPECT_EQ(st.id, "good");
  EXPECT_EQ(st.reason, ExitReason::shutdown());
  if (s) {
    Exit e = must_receive<Exit>(inbox);
    EXPECT_EQ(e.from, s);
    EXPECT_FALSE(e.reason.is_normal()) << e.reason;
  }
  EXPECT_TRUE(eventually(rt(), [&] { return !rt().alive(good); }));
}

TEST_P(SupervisorTest, TerminateRestartAndDeleteChildById) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  Pid s = start(inbox, {}, {worker_spec("a", me), worker_spec("b", me)}, &pids);

  auto terminated = terminate_child(inbox, s, "b");
  ASSERT_TRUE(terminated && terminated->ok());
  Stopped st = must_receive<Stopped>(inbox);
  EXPECT_EQ(st.id, "b");
  EXPECT_EQ(st.reason, ExitReason::shutdown());
  std::vector<ChildInfo> children = which(inbox, s);
  ASSERT_EQ(ids(children), (std::vector<std::string>{"a", "b"}));
  EXPECT_FALSE(children[1].pid.valid()) << "a terminated child keeps its spec";
  EXPECT_FALSE(inbox.receive<Started>(0ms).has_value()) << "terminate_child must not restart";

  auto restarted = restart_child(inbox, s, "b");
  ASSERT_TRUE(restarted && restarted->ok());
  Pid b2 = await_start(inbox, "b");
  EXPECT_EQ(restarted->value(), b2);

  auto running = delete_child(inbox, s, "b");
  ASSERT_TRUE(running.has_value());
  EXPECT_FALSE(running->ok()) << "a running child cannot be deleted";

  auto stopped = terminate_child(inbox, s, "b");
  ASSERT_TRUE(stopped && stopped->ok());
  must_receive<Stopped>(inbox);
  auto deleted = delete_child(inbox, s, "b");
  ASSERT_TRUE(deleted && deleted->ok()) << (deleted ? deleted->status().to_string() : "");
  EXPECT_EQ(ids(which(inbox, s)), (std::vector<std::string>{"a"}));

  auto unknown = terminate_child(inbox, s, "zz");
  ASSERT_TRUE(unknown.has_value());
  EXPECT_EQ(unknown->status().code(), StatusCode::kNotFound);
}

TEST_P(SupervisorTest, StartChildAddsSpecAndRejectsDuplicateId) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  std::vector<Pid> pids;
  Pid s = start(inbox, {}, {worker_spec("a", me)}, &pids);
  ChildSpec extra = worker_spec("x", me);
  auto added = start_child(inbox, s, extra);
  ASSERT_TRUE(added && added->ok());
  EXPECT_EQ(await_start(inbox, "x"), added->value());
  auto dup = start_child(inbox, s, extra);
  ASSERT_TRUE(dup.has_value());
  EXPECT_EQ(dup->status().code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(ids(which(inbox, s)), (std::vector<std::string>{"a", "x"}));
}

// ---- DynamicSupervisor

TEST_P(SupervisorTest, DynamicSupervisorStartsListsCountsAndTerminatesChildren) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  Pid s = start_dynamic(inbox, DynamicSupervisorFlags{});
  ASSERT_TRUE(s.valid());
  ChildCounts empty = counts(inbox, s);
  EXPECT_EQ(empty.specs, 0);
  EXPECT_EQ(empty.active, 0);

  std::vector<Pid> started;
  for (const char* id : {"one", "two"}) {
    ChildSpec spec = worker_spec(id, me);
    auto r = start_child(inbox, s, spec);
    ASSERT_TRUE(r && r->ok());
    EXPECT_EQ(await_start(inbox, id), r->value());
    started.push_back(r->value());
  }
  std::vector<ChildInfo> children = which(inbox, s);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_EQ(children[0].pid, started[0]);
  EXPECT_EQ(children[1].pid, started[1]);
  for (const ChildInfo& c : children) EXPECT_EQ(c.id, "");
  ChildCounts n = counts(inbox, s);
  EXPECT_EQ(n.specs, 2);
  EXPECT_EQ(n.active, 2);
  EXPECT_EQ(n.workers, 2);
  EXPECT_EQ(n.supervisors, 0);

  Pid first = started[0];
  auto t = terminate_child(inbox, s, first);
  ASSERT_TRUE(t && t->ok());
  Stopped st = must_receive<Stopped>(inbox);
  EXPECT_EQ(st.id, "one");
  EXPECT_EQ(st.reason, ExitReason::shutdown());
  EXPECT_FALSE(rt().alive(first));
  children = which(inbox, s);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].pid, started[1]);
  EXPECT_EQ(counts(inbox, s).active, 1);

  auto again = terminate_child(inbox, s, first);
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->status().code(), StatusCode::kNotFound);
}

TEST_P(SupervisorTest, DynamicSupervisorRestartsCrashedPermanentChild) {
  Inbox inbox(rt());
  Pid s = start_dynamic(inbox, DynamicSupervisorFlags{});
  ChildSpec spec = worker_spec("dyn", inbox.pid());
  auto r = start_child(inbox, s, spec);
  ASSERT_TRUE(r && r->ok());
  Pid first = await_start(inbox, "dyn");
  rt().send(first, Crash{ExitReason::error("dyn failed")});
  Pid second = await_start(inbox, "dyn");
  EXPECT_NE(first, second);
  std::vector<ChildInfo> children = which(inbox, s);
  ASSERT_EQ(children.size(), 1u);
  EXPECT_EQ(children[0].pid, second);
}

TEST_P(SupervisorTest, DynamicSupervisorEnforcesMaxChildren) {
  Inbox inbox(rt());
  Pid s = start_dynamic(inbox, {.max_children = 2});
  for (int i = 0; i < 2; ++i) {
    ChildSpec spec = worker_spec("c" + std::to_string(i), inbox.pid());
    auto r = start_child(inbox, s, spec);
    ASSERT_TRUE(r && r->ok());
    await_start(inbox, spec.id);
  }
  ChildSpec spec = worker_spec("over", inbox.pid());
  auto over = start_child(inbox, s, spec);
  ASSERT_TRUE(over.has_value());
  EXPECT_EQ(over->status().code(), StatusCode::kResourceExhausted);
  EXPECT_FALSE(inbox.receive<Started>(0ms).has_value());
  EXPECT_EQ(counts(inbox, s).active, 2);
}

TEST_P(SupervisorTest, NestedSupervisorCountsAsSupervisorAndIsShutDown) {
  Inbox inbox(rt());
  Pid me = inbox.pid();
  ChildSpec nested;
  nested.id = "nested";
  nested.supervisor = true;
  nested.shutdown = Shutdown::infinity();
  nested.start = [me](Context s) {
    Pid pid = plexus::start_dynamic_supervisor(s, DynamicSupervisorFlags{});
    s.send(me, Started{"nested", pid});
    return pid;
  };
  inbox.context().trap_exit(true);
  Pid s = plexus::start_supervisor(inbox.context(), {}, {worker_spec("w", me), nested});
  await_start(inbox, "w");
  Pid inner = must_receive<Started>(inbox).pid;
  Ref inner_ref = inbox.context().monitor(inner);
  ChildCounts n = counts(inbox, s);
  EXPECT_EQ(n.specs, 2);
  EXPECT_EQ(n.active, 2);
  EXPECT_EQ(n.workers, 1);
  EXPECT_EQ(n.supervisors, 1);
  std::vector<ChildInfo> children = which(inbox, s);
  ASSERT_EQ(children.size(), 2u);
  EXPECT_TRUE(children[1].supervisor);
  EXPECT_FALSE(children[0].supervisor);

  inbox.context().exit(s, ExitReason::shutdown());
  EXPECT_EQ(must_receive_down(inbox, inner_ref).reason, ExitReason::shutdown());
  EXPECT_EQ(must_receive<Stopped>(inbox).id, "w");
  EXPECT_EQ(must_receive<Exit>(inbox).from, s);
}

PLEXUS_INSTANTIATE_SCHEDULERS(SupervisorTest);

}  // namespace
}  // namespace plexus_test

// Links and exit signals, with Erlang's rules: normal exits do not kill
// non-trapping linked processes, other reasons do; trap_exit turns signals
// into Exit messages; kill is untrappable and seen as killed; exit(pid,
// normal) is ignored unless the target traps; links are idempotent sets.
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <vector>

#include "plexus/plexus.h"
#include "test_processes.h"
#include "test_support.h"

namespace plexus_test {
namespace {

struct ChildIs {
  Pid child;
};
struct Survived {};
struct ExitCount {
  int n;
};
struct Forwarded {
  Exit exit;
};

class LinkTest : public SchedTest {
 protected:
  // Spawns a parent that spawn_links a worker and lets `adjust_link` change
  // the link (unlink it, link again...), then ends the child by sending it
  // `end_child`. The parent monitors the child and reports Survived once its
  // Down arrives; then the test stops it, and it exits with error("done").
  // Returns the reason the parent exited with (a parent the link took down
  // never reports Survived, and the wait for it fails the test).
  template <class F, class M>
  ExitReason parent_exit_after_child_ends(Inbox& inbox, F adjust_link, M end_child) {
    Pid to = inbox.pid();
    Pid parent = rt().spawn([to, adjust_link](Context self) -> Task<> {
      Pid child = self.spawn_link(worker);
      adjust_link(self, child);
      Ref ref = self.monitor(child);
      self.send(to, ChildIs{child});
      co_await self.receive(
          plexus::match([ref](const Down& d) { return d.ref == ref; }, [](const Down&) {}));
      self.send(to, Survived{});
      co_await self.receive<Stop>();
      self.exit(ExitReason::error("done"));
    });
    Ref parent_ref = inbox.context().monitor(parent);
    Pid child = must_receive<ChildIs>(inbox).child;
    rt().send(child, std::move(end_child));
    must_receive<Survived>(inbox);
    rt().send(parent, Stop{});
    return must_receive_down(inbox, parent_ref).reason;
  }
};

// Traps exits and forwards every Exit to `to`; otherwise as worker. With
// `link_child`, first spawn_links a worker and reports it.
Task<> trapper(Context self, Pid to, bool link_child) {
  self.trap_exit(true);
  if (link_child) self.send(to, ChildIs{self.spawn_link(worker)});
  co_await serve_as_worker(self, [&](Exit& e) { self.send(to, Forwarded{e}); });
}

// Non-trapping: spawn_links a worker, reports it, then waits for Crash/Stop.
Task<> linked_parent(Context self, Pid to) {
  self.send(to, ChildIs{self.spawn_link(worker)});
  co_await worker(self);
}

TEST_P(LinkTest, AbnormalExitKillsLinkedNonTrappingProcessWithSameReason) {
  Inbox inbox(rt());
  Pid parent = rt().spawn(linked_parent, inbox.pid());
  Ref parent_ref = inbox.context().monitor(parent);
  Pid child = must_receive<ChildIs>(inbox).child;
  Ref child_ref = inbox.context().monitor(child);

  rt().send(child, Crash{ExitReason::error("boom")});
  EXPECT_EQ(must_receive_down(inbox, child_ref).reason, ExitReason::error("boom"));
  EXPECT_EQ(must_receive_down(inbox, parent_ref).reason, ExitReason::error("boom"));
  EXPECT_FALSE(rt().alive(parent));
}

TEST_P(LinkTest, NormalExitDoesNotKillLinkedNonTrappingProcess) {
  Inbox inbox(rt());
  ExitReason parent_reason = parent_exit_after_child_ends(
      inbox, [](Context, Pid) {}, Stop{});
  // Had the link killed it, the reason would be the child's, not "done".
  EXPECT_EQ(parent_reason, ExitReason::error("done"));
}

TEST_P(LinkTest, TrappingProcessGetsExitMessageWithSenderAndReason) {
  Inbox inbox(rt());
  Pid parent = rt().spawn(trapper, inbox.pid(), true);
  Pid child = must_receive<ChildIs>(inbox).child;
  rt().send(child, Crash{ExitReason::error("boom")});
  Forwarded f = must_receive<Forwarded>(inbox);
  EXPECT_EQ(f.exit.from, child);
  EXPECT_EQ(f.exit.reason, ExitReason::error("boom"));
  EXPECT_TRUE(answers_ping(inbox, parent));
}

TEST_P(LinkTest, TrappingProcessGetsExitMessageForNormalExit) {
  Inbox inbox(rt());
  Pid parent = rt().spawn(trapper, inbox.pid(), true);
  Pid child = must_receive<ChildIs>(inbox).child;
  rt().send(child, Stop{});
  Forwarded f = must_receive<Forwarded>(inbox);
  EXPECT_EQ(f.exit.from, child);
  EXPECT_TRUE(f.exit.reason.is_normal()) << f.exit.reason;
  EXPECT_TRUE(answers_ping(inbox, parent));
}

TEST_P(LinkTest, KillIsUntrappableAndMonitorsSeeKilled) {
  Inbox inbox(rt());
  Pid victim = rt().spawn(trapper, inbox.pid(), false);
  Ref ref = inbox.context().monitor(victim);
  ASSERT_TRUE(answers_ping(inbox, victim));
  inbox.context().exit(victim, ExitReason::kill());
  EXPECT_FALSE(rt().alive(victim)) << "alive() must be false as soon as kill is sent";
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::killed());
  EXPECT_TRUE(nothing_of_type<Forwarded>(inbox));
}

TEST_P(LinkTest, KillFromOutsideAnyProcessIsUntrappable) {
  Inbox inbox(rt());
  Pid victim = rt().spawn(trapper, inbox.pid(), false);
  Ref ref = inbox.context().monitor(victim);
  rt().exit(victim, ExitReason::kill());
  EXPECT_FALSE(rt().alive(victim));
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::killed());
}

// A trapping parent linked to a child that `end` ends: the Exit it gets
// names the child and `reason`, and the parent lives on.
void expect_trapped_exit(plexus::Runtime& rt, const std::function<void(Pid child)>& end,
                         const ExitReason& reason, const char* why) {
  Inbox inbox(rt);
  Pid parent = rt.spawn(trapper, inbox.pid(), true);
  Pid child = must_receive<ChildIs>(inbox).child;
  end(child);
  Forwarded f = must_receive<Forwarded>(inbox);
  EXPECT_EQ(f.exit.from, child);
  EXPECT_EQ(f.exit.reason, reason);
  EXPECT_TRUE(answers_ping(inbox, parent)) << why;
}

TEST_P(LinkTest, LinkedTrappingProcessSeesKilledNotKill) {
  expect_trapped_exit(
      rt(), [&](Pid child) { rt().exit(child, ExitReason::kill()); }, ExitReason::killed(),
      "killed is trappable; only kill is not");
}

TEST_P(LinkTest, KilledPropagatesToLinkedNonTrappingProcess) {
  Inbox inbox(rt());
  Pid parent = rt().spawn(linked_parent, inbox.pid());
  Ref parent_ref = inbox.context().monitor(parent);
  Pid child = must_receive<ChildIs>(inbox).child;
  rt().exit(child, ExitReason::kill());
  EXPECT_EQ(must_receive_down(inbox, parent_ref).reason, ExitReason::killed());
}

// Only exit/2's kill is untrappable and becomes killed. A process that exits
// with reason kill itself is seen exiting with kill, an ordinary reason: a
// linked process that does not trap dies with kill, one that traps gets
// Exit{kill} and lives (Erlang's rules).
TEST_P(LinkTest, AProcessThatExitsWithKillItselfIsSeenExitingWithKill) {
  Inbox inbox(rt());
  Pid parent = rt().spawn(linked_parent, inbox.pid());
  Ref parent_ref = inbox.context().monitor(parent);
  Pid child = must_receive<ChildIs>(inbox).child;
  Ref child_ref = inbox.context().monitor(child);
  rt().send(child, Crash{ExitReason::kill()});
  EXPECT_EQ(must_receive_down(inbox, child_ref).reason, ExitReason::kill());
  EXPECT_EQ(must_receive_down(inbox, parent_ref).reason, ExitReason::kill());
}

TEST_P(LinkTest, AKillReasonFromALinkIsTrappable) {
  expect_trapped_exit(
      rt(), [&](Pid child) { rt().send(child, Crash{ExitReason::kill()}); }, ExitReason::kill(),
      "a trapping process survives a linked kill exit");
}

TEST_P(LinkTest, ExitNormalFromAnotherProcessIsIgnoredByNonTrappingTarget) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Ref ref = inbox.context().monitor(target);
  inbox.context().exit(target, ExitReason::normal());
  rt().exit(target, ExitReason::normal());
  // The ping is ordered after the signal from the same sender.
  EXPECT_TRUE(answers_ping(inbox, target));
  EXPECT_TRUE(rt().alive(target));
  rt().send(target, Stop{});
  EXPECT_TRUE(must_receive_down(inbox, ref).reason.is_normal());
}

TEST_P(LinkTest, ExitNormalToTrappingTargetBecomesExitMessage) {
  Inbox inbox(rt());
  Pid target = rt().spawn(trapper, inbox.pid(), false);
  ASSERT_TRUE(answers_ping(inbox, target));
  inbox.context().exit(target, ExitReason::normal());
  Forwarded f = must_receive<Forwarded>(inbox);
  EXPECT_EQ(f.exit.from, inbox.pid());
  EXPECT_TRUE(f.exit.reason.is_normal());
  EXPECT_TRUE(answers_ping(inbox, target));
}

TEST_P(LinkTest, ExitWithReasonKillsNonTrappingTarget) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Ref ref = inbox.context().monitor(target);
  inbox.context().exit(target, ExitReason::error("bye"));
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::error("bye"));
}

TEST_P(LinkTest, ExitWithReasonToTrappingTargetBecomesMessageNamingSender) {
  Inbox inbox(rt());
  Pid target = rt().spawn(trapper, inbox.pid(), false);
  ASSERT_TRUE(answers_ping(inbox, target));
  inbox.context().exit(target, ExitReason::error("x"));
  Forwarded from_process = must_receive<Forwarded>(inbox);
  EXPECT_EQ(from_process.exit.from, inbox.pid());
  EXPECT_EQ(from_process.exit.reason, ExitReason::error("x"));
  rt().exit(target, ExitReason::shutdown());
  Forwarded from_outside = must_receive<Forwarded>(inbox);
  EXPECT_FALSE(from_outside.exit.from.valid()) << "Runtime::exit sends from the null pid";
  EXPECT_EQ(from_outside.exit.reason, ExitReason::shutdown());
  EXPECT_TRUE(answers_ping(inbox, target));
}

TEST_P(LinkTest, ExitSelfNormalEndsNonTrappingCaller) {
  Inbox inbox(rt());
  auto [pid, ref] = inbox.context().spawn_monitor([](Context self) -> Task<> {
    self.exit(self.self(), ExitReason::normal());
    co_await self.receive<Stop>();  // never sent: the signal must end the process
  });
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.pid, pid);
  EXPECT_TRUE(down.reason.is_normal()) << down.reason;
}

TEST_P(LinkTest, ExitSelfNormalWhileTrappingBecomesExitMessage) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid pid = rt().spawn([to](Context self) -> Task<> {
    self.trap_exit(true);
    self.exit(self.self(), ExitReason::normal());
    Exit e = co_await self.receive<Exit>();
    self.send(to, Forwarded{e});
  });
  Forwarded f = must_receive<Forwarded>(inbox);
  EXPECT_EQ(f.exit.from, pid);
  EXPECT_TRUE(f.exit.reason.is_normal());
}

TEST_P(LinkTest, UnlinkStopsExitPropagation) {
  Inbox inbox(rt());
  ExitReason parent_reason = parent_exit_after_child_ends(
      inbox, [](Context self, Pid child) { self.unlink(child); }, Crash{ExitReason::error("boom")});
  EXPECT_EQ(parent_reason, ExitReason::error("done"));
}

TEST_P(LinkTest, UnlinkRemovesLinkInBothDirections) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid parent = rt().spawn([to](Context self) -> Task<> {
    Pid child = self.spawn_link(worker);
    self.unlink(child);
    self.send(to, ChildIs{child});
    co_await worker(self);
  });
  Ref parent_ref = inbox.context().monitor(parent);
  Pid child = must_receive<ChildIs>(inbox).child;
  ASSERT_TRUE(answers_ping(inbox, parent));  // the unlink has been done
  rt().send(parent, Crash{ExitReason::error("parent died")});
  EXPECT_EQ(must_receive_down(inbox, parent_ref).reason, ExitReason::error("parent died"));
  EXPECT_TRUE(answers_ping(inbox, child));
  EXPECT_TRUE(rt().alive(child));
  rt().send(child, Stop{});
}

TEST_P(LinkTest, LinkIsIdempotentSoOneUnlinkRemovesIt) {
  Inbox inbox(rt());
  ExitReason parent_reason = parent_exit_after_child_ends(
      inbox,
      [](Context self, Pid child) {
        plexus::Status again = self.link(child);
        plexus::Status third = self.link(child);
        if (!again.ok() || !third.ok()) self.exit(ExitReason::error("link failed"));
        self.unlink(child);
      },
      Crash{ExitReason::error("boom")});
  EXPECT_EQ(parent_reason, ExitReason::error("done"));
}

TEST_P(LinkTest, LinkingTwiceDeliversOneExit) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  rt().spawn([to](Context self) -> Task<> {
    self.trap_exit(true);
    Pid child = self.spawn_link(worker);
    (void)self.link(child);
    Ref ref = self.monitor(child);
    self.send(to, ChildIs{child});
    int exits = 0;
    bool down = false;
    while (!down) {
      co_await self.receive([&](const Exit&) { ++exits; },
                            plexus::match([ref](const Down& d) { return d.ref == ref; },
                                          [&](const Down&) { down = true; }));
    }
    // Anything the exit produced has arrived by now; count stragglers too.
    for (;;) {
      bool more =
          co_await self.receive([&](const Exit&) { ++exits; }, plexus::after(kQuiet, [] {}));
      if (!more) break;
    }
    self.send(to, ExitCount{exits});
  });
  Pid child = must_receive<ChildIs>(inbox).child;
  rt().send(child, Crash{ExitReason::error("boom")});
  EXPECT_EQ(must_receive<ExitCount>(inbox).n, 1);
}

TEST_P(LinkTest, LinkToDeadPidIsNoProcWhenNotTrapping) {
  Inbox inbox(rt());
  auto [dead, ref] = inbox.context().spawn_monitor([] {});
  must_receive_down(inbox, ref);
  EXPECT_EQ(inbox.context().link(dead).code(), StatusCode::kNoProc);
  EXPECT_TRUE(inbox.alive());
  EXPECT_TRUE(nothing_of_type<Exit>(inbox));
}

TEST_P(LinkTest, LinkToDeadPidWhileTrappingDeliversExitNoProc) {
  Inbox inbox(rt());
  auto [dead, ref] = inbox.context().spawn_monitor([] {});
  must_receive_down(inbox, ref);
  inbox.context().trap_exit(true);
  (void)inbox.context().link(dead);
  Exit e = must_receive<Exit>(inbox);
  EXPECT_EQ(e.from, dead);
  EXPECT_EQ(e.reason, ExitReason::noproc());
  EXPECT_TRUE(inbox.alive());
}

TEST_P(LinkTest, LinkIsBidirectional) {
  Inbox inbox(rt());
  Pid parent = rt().spawn(linked_parent, inbox.pid());
  Pid child = must_receive<ChildIs>(inbox).child;
  Ref child_ref = inbox.context().monitor(child);
  rt().send(parent, Crash{ExitReason::error("parent crash")});
  EXPECT_EQ(must_receive_down(inbox, child_ref).reason, ExitReason::error("parent crash"));
}

TEST_P(LinkTest, LinkChainDiesEntirelyWithTheSameReason) {
  Inbox inbox(rt());
  constexpr int kLength = 10;
  rt().spawn(chain_link, kLength - 1, inbox.pid());
  std::vector<Pid> chain;
  std::vector<Ref> refs;
  for (int i = 0; i < kLength; ++i) {
    chain.push_back(must_receive<Joined>(inbox).pid);
    refs.push_back(inbox.context().monitor(chain.back()));
  }
  inbox.context().exit(chain.back(), ExitReason::error("end of chain"));
  for (int i = 0; i < kLength; ++i) {
    Down d = must_receive_down(inbox, refs[i]);
    EXPECT_EQ(d.reason, ExitReason::error("end of chain")) << "link " << i;
    EXPECT_FALSE(rt().alive(chain[i]));
  }
}

TEST_P(LinkTest, SpawnLinkedChildThatFailsAtOnceNotifiesTrappingParent) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  rt().spawn([to](Context self) -> Task<> {
    self.trap_exit(true);
    Pid child = self.spawn_link([] { throw std::runtime_error("failed at start"); });
    self.send(to, ChildIs{child});
    Exit e = co_await self.receive<Exit>();
    self.send(to, Forwarded{e});
  });
  Pid child = must_receive<ChildIs>(inbox).child;
  Forwarded f = must_receive<Forwarded>(inbox);
  EXPECT_EQ(f.exit.from, child);
  EXPECT_EQ(f.exit.reason.kind(), ExitReason::Kind::kException) << f.exit.reason;
  EXPECT_NE(std::string(f.exit.reason.detail()).find("failed at start"), std::string::npos);
}

TEST_P(LinkTest, LinkedInboxIsEndedByAbnormalExit) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  {
    Inbox linked(rt());
    ASSERT_TRUE(linked.context().link(target).ok());
    ASSERT_TRUE(answers_ping(linked, target));
    rt().send(target, Crash{ExitReason::error("took the inbox down")});
    EXPECT_FALSE(linked.receive<Stop>(kWait).has_value());
    EXPECT_FALSE(linked.alive());
    EXPECT_EQ(linked.exit_reason(), ExitReason::error("took the inbox down"));
  }
  EXPECT_TRUE(inbox.alive());
}

PLEXUS_INSTANTIATE_SCHEDULERS(LinkTest);

}  // namespace
}  // namespace plexus_test

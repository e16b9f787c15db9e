// Processes: spawning, liveness, exit on return, sending to dead pids,
// registered names, exceptions as exit reasons, self() and spawn arguments.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "plexus/plexus.h"
#include "test_processes.h"
#include "test_support.h"

namespace plexus_test {
namespace {

struct Value {
  int v;
};
struct Text {
  std::string s;
};
struct Report {
  Pid self;
};

class ProcessTest : public SchedTest {};

TEST_P(ProcessTest, SpawnedProcessIsAliveUntilItsBodyReturns) {
  Inbox inbox(rt());
  size_t base = rt().process_count();
  Pid pid = rt().spawn([](Context self) -> Task<> { co_await self.receive<Stop>(); });
  ASSERT_TRUE(pid.valid());
  EXPECT_TRUE(rt().alive(pid));
  EXPECT_EQ(rt().process_count(), base + 1);

  Ref ref = inbox.context().monitor(pid);
  rt().send(pid, Stop{});
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.pid, pid);
  EXPECT_TRUE(down.reason.is_normal()) << down.reason;
  EXPECT_FALSE(rt().alive(pid));
  EXPECT_TRUE(eventually(rt(), [&] { return rt().process_count() == base; }));
}

TEST_P(ProcessTest, PlainFunctionBodyExitsNormallyWhenItReturns) {
  Inbox inbox(rt());
  int computed = 0;
  auto [pid, ref] = inbox.context().spawn_monitor([&computed] { computed = 6 * 7; });
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.pid, pid);
  EXPECT_EQ(down.reason, ExitReason::normal());
  EXPECT_EQ(computed, 42);
  EXPECT_FALSE(rt().alive(pid));
}

TEST_P(ProcessTest, SendToDeadPidIsSilentlyDropped) {
  Inbox inbox(rt());
  auto [dead, ref] = inbox.context().spawn_monitor([] {});
  must_receive_down(inbox, ref);
  size_t count = rt().process_count();

  rt().send(dead, Value{1});
  inbox.context().send(dead, Value{2});
  rt().send(Pid{}, Value{3});
  EXPECT_FALSE(rt().alive(dead));
  EXPECT_EQ(rt().process_count(), count);

  // Senders are unaffected: a live process still answers.
  Pid live = rt().spawn(worker);
  inbox.context().send(live, Ping{inbox.pid()});
  EXPECT_EQ(must_receive<Pong>(inbox).from, live);
  EXPECT_TRUE(nothing_of_type<Value>(inbox));
  rt().send(live, Stop{});
}

TEST_P(ProcessTest, SpawnPassesArgumentsToCoroutineBody) {
  Inbox inbox(rt());
  rt().spawn(
      [](Context self, Pid to, int a, std::string s) -> Task<> {
        self.send(to, Text{s + std::to_string(a)});
        co_return;
      },
      inbox.pid(), 42, std::string("answer="));
  EXPECT_EQ(must_receive<Text>(inbox).s, "answer=42");
}

TEST_P(ProcessTest, SpawnPassesArgumentsToPlainFunctions) {
  Inbox inbox(rt());
  plexus::Runtime* runtime = &rt();
  // void(Args...): no Context.
  rt().spawn([runtime](Pid to, int a, int b) { runtime->send(to, Value{a * b}); }, inbox.pid(), 6,
             7);
  EXPECT_EQ(must_receive<Value>(inbox).v, 42);
  // void(Context, Args...).
  rt().spawn([](Context self, Pid to, std::string s) { self.send(to, Text{s}); }, inbox.pid(),
             std::string("plain"));
  EXPECT_EQ(must_receive<Text>(inbox).s, "plain");
}

Task<> report_sum(Context self, Pid to, int a, int b) {
  self.send(to, Value{a + b});
  co_return;
}

TEST_P(ProcessTest, SpawnAcceptsFreeCoroutineFunction) {
  Inbox inbox(rt());
  rt().spawn(report_sum, inbox.pid(), 40, 2);
  EXPECT_EQ(must_receive<Value>(inbox).v, 42);
}

TEST_P(ProcessTest, SelfIsTheSpawnedPid) {
  Inbox inbox(rt());
  Pid pid = rt().spawn(
      [](Context self, Pid to) -> Task<> {
        self.send(to, Report{self.self()});
        co_return;
      },
      inbox.pid());
  EXPECT_EQ(must_receive<Report>(inbox).self, pid);
}

TEST_P(ProcessTest, ProcessCanSpawnProcesses) {
  Inbox inbox(rt());
  rt().spawn(
      [](Context self, Pid to) -> Task<> {
        Pid child = self.spawn(worker);
        self.send(child, Ping{self.self()});
        Pong pong = co_await self.receive<Pong>();
        self.send(to, Report{pong.from});
        self.send(child, Stop{});
      },
      inbox.pid());
  Pid child = must_receive<Report>(inbox).self;
  EXPECT_TRUE(child.valid());
}

TEST_P(ProcessTest, RegisteredNameReachesProcess) {
  Inbox inbox(rt());
  Pid pid = rt().spawn(worker);
  ASSERT_TRUE(rt().register_name("echo", pid).ok());
  EXPECT_EQ(rt().whereis("echo"), pid);

  ASSERT_TRUE(rt().send("echo", Ping{inbox.pid()}).ok());
  EXPECT_EQ(must_receive<Pong>(inbox).from, pid);
  ASSERT_TRUE(inbox.context().send("echo", Ping{inbox.pid()}).ok());
  EXPECT_EQ(must_receive<Pong>(inbox).from, pid);
  rt().send(pid, Stop{});
}

TEST_P(ProcessTest, SendToUnregisteredNameIsNotFound) {
  Inbox inbox(rt());
  EXPECT_FALSE(rt().whereis("nobody").valid());
  EXPECT_EQ(rt().send("nobody", Value{1}).code(), StatusCode::kNotFound);
  EXPECT_EQ(inbox.context().send("nobody", Value{1}).code(), StatusCode::kNotFound);
}

TEST_P(ProcessTest, RegisteringTakenNameOrSecondNameIsAlreadyExists) {
  Pid a = rt().spawn(worker);
  Pid b = rt().spawn(worker);
  ASSERT_TRUE(rt().register_name("taken", a).ok());
  EXPECT_EQ(rt().register_name("taken", b).code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(rt().whereis("taken"), a);
  // A process has at most one name.
  EXPECT_EQ(rt().register_name("another", a).code(), StatusCode::kAlreadyExists);
  EXPECT_FALSE(rt().whereis("another").valid());
  rt().send(a, Stop{});
  rt().send(b, Stop{});
}

TEST_P(ProcessTest, UnregisterRemovesName) {
  Pid pid = rt().spawn(worker);
  ASSERT_TRUE(rt().register_name("gone", pid).ok());
  EXPECT_TRUE(rt().unregister("gone").ok());
  EXPECT_FALSE(rt().whereis("gone").valid());
  EXPECT_EQ(rt().send("gone", Value{1}).code(), StatusCode::kNotFound);
  EXPECT_EQ(rt().unregister("gone").code(), StatusCode::kNotFound);
  // The process keeps running and may take a name again.
  EXPECT_TRUE(rt().register_name("back", pid).ok());
  rt().send(pid, Stop{});
}

TEST_P(ProcessTest, NameIsReleasedWhenProcessExits) {
  Inbox inbox(rt());
  Pid first = rt().spawn(worker);
  ASSERT_TRUE(rt().register_name("service", first).ok());
  Ref ref = inbox.context().monitor(first);
  rt().send(first, Stop{});
  must_receive_down(inbox, ref);
  EXPECT_FALSE(rt().whereis("service").valid());
  EXPECT_EQ(rt().send("service", Value{1}).code(), StatusCode::kNotFound);

  Pid second = rt().spawn(worker);
  EXPECT_TRUE(rt().register_name("service", second).ok());
  EXPECT_EQ(rt().whereis("service"), second);
  rt().send(second, Stop{});
}

TEST_P(ProcessTest, RegisteringDeadPidFails) {
  Inbox inbox(rt());
  auto [dead, ref] = inbox.context().spawn_monitor([] {});
  must_receive_down(inbox, ref);
  EXPECT_FALSE(rt().register_name("ghost", dead).ok());
  EXPECT_FALSE(rt().whereis("ghost").valid());
}

TEST_P(ProcessTest, ProcessRegistersItselfThroughContext) {
  Inbox inbox(rt());
  Pid pid = rt().spawn(
      [](Context self, Pid to) -> Task<> {
        plexus::Status first = self.register_name("me");
        plexus::Status second = self.register_name("me-again");
        self.send(to, Value{(first.ok() ? 1 : 0) +
                            (second.code() == StatusCode::kAlreadyExists ? 10 : 0)});
        co_await self.receive<Stop>();
      },
      inbox.pid());
  EXPECT_EQ(must_receive<Value>(inbox).v, 11);
  EXPECT_EQ(rt().whereis("me"), pid);
  rt().send(pid, Stop{});
}

TEST_P(ProcessTest, ExceptionBecomesExitReason) {
  Inbox inbox(rt());
  auto [pid, ref] = inbox.context().spawn_monitor([](Context) -> Task<> {
    throw std::runtime_error("boom");
    co_return;
  });
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.pid, pid);
  EXPECT_EQ(down.reason.kind(), ExitReason::Kind::kException) << down.reason;
  EXPECT_EQ(down.reason.detail(), "std::runtime_error: boom");
  EXPECT_EQ(down.reason, ExitReason::exception("std::runtime_error", "boom"));
}

TEST_P(ProcessTest, ExceptionInPlainFunctionBecomesExitReason) {
  Inbox inbox(rt());
  auto [pid, ref] = inbox.context().spawn_monitor([] { throw std::logic_error("bad logic"); });
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.reason.kind(), ExitReason::Kind::kException) << down.reason;
  EXPECT_EQ(down.reason.detail(), "std::logic_error: bad logic");
}

struct CustomError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

TEST_P(ProcessTest, ExceptionReasonNamesTheDynamicType) {
  Inbox inbox(rt());
  auto [pid, ref] = inbox.context().spawn_monitor([](Context) -> Task<> {
    throw CustomError("custom");
    co_return;
  });
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.reason.kind(), ExitReason::Kind::kException) << down.reason;
  std::string detail(down.reason.detail());
  EXPECT_NE(detail.find("CustomError: custom"), std::string::npos) << detail;
}

TEST_P(ProcessTest, NonStandardExceptionStillEndsProcessWithExceptionReason) {
  Inbox inbox(rt());
  auto [pid, ref] = inbox.context().spawn_monitor([] { throw 42; });
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.pid, pid);
  EXPECT_EQ(down.reason.kind(), ExitReason::Kind::kException) << down.reason;
}

TEST_P(ProcessTest, ExceptionIsLoggedAsErrorNamingProcessAndException) {
  Inbox inbox(rt());
  auto [pid, ref] = inbox.context().spawn_monitor([](Context) -> Task<> {
    throw std::runtime_error("kaboom-7");
    co_return;
  });
  must_receive_down(inbox, ref);
  EXPECT_TRUE(logs_.wait_for(LogLevel::kError, {pid.to_string(), "kaboom-7"})) << "log was:\n"
                                                                               << logs_.dump();
}

TEST_P(ProcessTest, ExitWithReasonEndsProcessAndIsNotLoggedAsCrash) {
  Inbox inbox(rt());
  auto [pid, ref] = inbox.context().spawn_monitor([](Context self) -> Task<> {
    self.exit(ExitReason::error("quietly"));
    co_return;
  });
  Down down = must_receive_down(inbox, ref);
  EXPECT_EQ(down.reason, ExitReason::error("quietly"));
  // Give a misbehaving runtime the same chance to log as a crash would have.
  auto [other, other_ref] = inbox.context().spawn_monitor([](Context) -> Task<> {
    throw std::runtime_error("marker");
    co_return;
  });
  must_receive_down(inbox, other_ref);
  ASSERT_TRUE(logs_.wait_for(LogLevel::kError, {other.to_string(), "marker"}));
  EXPECT_EQ(logs_.count(LogLevel::kError, {pid.to_string()}), 0u) << logs_.dump();
}

TEST_P(ProcessTest, ProcessCountTracksLiveProcesses) {
  Inbox inbox(rt());
  size_t base = rt().process_count();
  std::vector<Pid> pids;
  for (int i = 0; i < 10; ++i) pids.push_back(rt().spawn(worker));
  EXPECT_EQ(rt().process_count(), base + 10);
  std::vector<Ref> refs;
  for (Pid pid : pids) refs.push_back(inbox.context().monitor(pid));
  for (Pid pid : pids) rt().send(pid, Stop{});
  for (Ref ref : refs) must_receive_down(inbox, ref);
  EXPECT_TRUE(eventually(rt(), [&] { return rt().process_count() == base; }))
      << rt().process_count() << " live, expected " << base;
}

// gen_server:call(self(), ...) exits at once with calling_self; it could
// only time out.
TEST_P(ProcessTest, ACallToOneselfExitsAtOnceWithCallingSelf) {
  Inbox inbox(rt());
  // Monitored from its spawn: it may be dead before a monitor set after it.
  auto [p, ref] = inbox.context().spawn_monitor([](Context self) -> Task<> {
    (void)co_await self.call<int>(self.self(), 1, std::chrono::hours(1));
  });
  Down d = must_receive_down(inbox, ref);
  ASSERT_NE(d.reason.term(), nullptr) << d.reason;
  EXPECT_EQ(d.reason.term()->elements().at(0), plexus::Term::atom("calling_self")) << d.reason;
  EXPECT_EQ(d.reason.to_string(), "{calling_self,{call,<<\"" + p.to_string() + "\">>}}");
  EXPECT_LT(rt().now_ms(), 60'000) << "it did not wait for its timeout";
}

PLEXUS_INSTANTIATE_SCHEDULERS(ProcessTest);

}  // namespace
}  // namespace plexus_test

// Servers (gen_server): init, calls answered now or later, casts, infos,
// terminate, idle timeout, and how calls fail: noproc, exited, timeout.
#include <gtest/gtest.h>

#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::From;
using plexus::Result;
using plexus::Status;

// Requests.
struct Get {};
struct Add {
  int n;
};
struct DeferredGet {};
struct ReleaseDeferred {};
struct StopCall {};
struct CrashCall {};
struct StopCast {
  ExitReason reason;
};
struct CrashCast {};
struct Ping {};
struct Crash {
  ExitReason reason;
};

// What the server tells its observer.
struct Started {
  Pid pid;
};
struct Info {
  std::string what;
  Pid from;
  ExitReason reason;
};
struct Deferred {};
struct TimedOut {
  int64_t at_ms;
};
struct Terminated {
  ExitReason reason;
};
struct ClientGot {
  bool ok;
  int value;
  StatusCode code;
};

struct CounterOptions {
  bool trap_exit = false;
  std::chrono::milliseconds idle_timeout{0};
  int max_timeouts = 1000;
};

class Counter : public plexus::Server {
 public:
  Counter(Pid observer, int initial, CounterOptions options = {})
      : observer_(observer), value_(initial), options_(options) {}

  Status init() override {
    if (options_.trap_exit) self().trap_exit(true);
    if (options_.idle_timeout.count() > 0) set_idle_timeout(options_.idle_timeout);
    self().send(observer_, Started{self().self()});
    return Status::OK();
  }

  void handle_call(Message& request, const From& from) override {
    if (request.is<Get>()) {
      reply(from, value_);
    } else if (Add* add = request.get_if<Add>()) {
      value_ += add->n;
      reply(from, value_);
    } else if (request.is<DeferredGet>()) {
      deferred_.push_back(from);
      self().send(observer_, Deferred{});
    } else if (request.is<StopCall>()) {
      stop(ExitReason::error("stopped in call"));
    } else if (request.is<CrashCall>()) {
      throw std::runtime_error("call crash");
    } else {
      Server::handle_call(request, from);
    }
  }

  void handle_cast(Message& msg) override {
    if (Add* add = msg.get_if<Add>()) {
      value_ += add->n;
    } else if (msg.is<ReleaseDeferred>()) {
      for (const From& from : deferred_) reply(from, value_);
      deferred_.clear();
    } else if (StopCast* s = msg.get_if<StopCast>()) {
      stop(s->reason);
    } else if (msg.is<CrashCast>()) {
      throw std::runtime_error("cast crash");
    } else {
      Server::handle_cast(msg);
    }
  }

  void handle_info(Message& msg) override {
    if (Exit* e = msg.get_if<Exit>()) {
      self().send(observer_, Info{"exit", e->from, e->reason});
    } else if (msg.is<Ping>()) {
      self().send(observer_, Info{"ping", Pid{}, ExitReason::normal()});
    } else {
      Server::handle_info(msg);
    }
  }

  void handle_timeout() override {
    self().send(observer_, TimedOut{self().runtime().now_ms()});
    if (--options_.max_timeouts == 0) set_idle_timeout(std::chrono::milliseconds(0));
  }

  void terminate(const ExitReason& reason) override { self().send(observer_, Terminated{reason}); }

 private:
  Pid observer_;
  int value_;
  CounterOptions options_;
  std::vector<From> deferred_;
};

class FailingInit : public plexus::Server {
 public:
  explicit FailingInit(Pid observer) : observer_(observer) {}
  Status init() override { return Status(StatusCode::kInvalidArgument, "bad config"); }
  void terminate(const ExitReason& reason) override { self().send(observer_, Terminated{reason}); }

 private:
  Pid observer_;
};

// Overrides nothing: calls and casts are unexpected.
class Bare : public plexus::Server {};

class ServerTest : public SchedTest {
 protected:
  // Runs `first(self)` in a fresh process, which then calls Get on `srv`:
  // whatever `first` sent reaches the server before that call. Returns the
  // call's result, or nothing if the process never reported.
  template <class F>
  std::optional<Result<int>> get_after(Inbox& inbox, Pid srv, F first) {
    return run_in_process<Result<int>>(rt(), inbox,
                                       [srv, first](Context self) -> Task<Result<int>> {
                                         first(self);
                                         co_return co_await self.call<int>(srv, Get{});
                                       });
  }
};

TEST_P(ServerTest, InitRunsBeforeAnyMessageIsHandled) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  ASSERT_TRUE(srv.valid());
  rt().send(srv, Ping{});
  EXPECT_EQ(must_receive<Started>(inbox).pid, srv);
  EXPECT_EQ(must_receive<Info>(inbox).what, "ping");
}

TEST_P(ServerTest, FailingInitEndsServerWithErrorAndSkipsTerminate) {
  Inbox inbox(rt());
  inbox.context().trap_exit(true);
  Pid srv = inbox.context().spawn_server_link<FailingInit>(inbox.pid());
  ASSERT_TRUE(srv.valid());
  Exit e = must_receive<Exit>(inbox);
  EXPECT_EQ(e.from, srv);
  EXPECT_EQ(e.reason.kind(), ExitReason::Kind::kError) << e.reason;
  EXPECT_NE(std::string(e.reason.detail()).find("bad config"), std::string::npos) << e.reason;
  EXPECT_FALSE(rt().alive(srv));
  // terminate() would have sent before the exit signal (same sender).
  EXPECT_FALSE(inbox.receive<Terminated>(0ms).has_value());
}

TEST_P(ServerTest, HandleCallRepliesImmediately) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  Result<int> a = call_from_process<int>(rt(), inbox, srv, Add{5});
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(*a, 5);
  Result<int> b = call_from_process<int>(rt(), inbox, srv, Add{3});
  ASSERT_TRUE(b.ok()) << b.status();
  EXPECT_EQ(*b, 8);
  Result<int> c = call_from_process<int>(rt(), inbox, srv, Get{});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(*c, 8);
}

TEST_P(ServerTest, InboxCallFromTestThreadReachesServer) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  inbox.context().cast(srv, Add{40});
  Result<int> r = inbox.call<int>(srv, Add{2});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(*r, 42);
  Result<int> again = inbox.call<int>(srv, Get{});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(*again, 42);
}

TEST_P(ServerTest, DeferredReplyFromStoredFromWhileServingOthers) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 1);
  Pid to = inbox.pid();
  rt().spawn([to, srv](Context self) -> Task<> {
    Result<int> r = co_await self.call<int>(srv, DeferredGet{});
    self.send(to, ClientGot{r.ok(), r.ok() ? *r : 0, r.status().code()});
  });
  must_receive<Deferred>(inbox);
  // The server is not blocked by the pending call.
  Result<int> now = call_from_process<int>(rt(), inbox, srv, Get{});
  ASSERT_TRUE(now.ok()) << now.status();
  EXPECT_EQ(*now, 1);
  inbox.context().cast(srv, Add{41});
  inbox.context().cast(srv, ReleaseDeferred{});
  ClientGot got = must_receive<ClientGot>(inbox);
  EXPECT_TRUE(got.ok) << plexus::status_code_name(got.code);
  EXPECT_EQ(got.value, 42);
}

TEST_P(ServerTest, CastsAreHandledInOrderBeforeLaterCall) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  // Casts and the call come from one process, so they arrive in that order.
  auto r = get_after(inbox, srv, [srv](Context self) {
    self.cast(srv, Add{3});
    self.cast(srv, Add{4});
  });
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok()) << r->status();
  EXPECT_EQ(r->value(), 7);
}

TEST_P(ServerTest, PlainMessagesGoToHandleInfo) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  must_receive<Started>(inbox);
  rt().send(srv, Ping{});
  EXPECT_EQ(must_receive<Info>(inbox).what, "ping");
  // A plain Add is an info, not a cast: the state is unchanged.
  auto r = get_after(inbox, srv, [srv](Context self) { self.send(srv, Add{100}); });
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok()) << r->status();
  EXPECT_EQ(r->value(), 0);
}

TEST_P(ServerTest, TrappingServerGetsExitSignalsInHandleInfo) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0, CounterOptions{.trap_exit = true});
  must_receive<Started>(inbox);
  inbox.context().exit(srv, ExitReason::error("x"));
  Info info = must_receive<Info>(inbox);
  EXPECT_EQ(info.what, "exit");
  EXPECT_EQ(info.from, inbox.pid());
  EXPECT_EQ(info.reason, ExitReason::error("x"));
  Result<int> r = call_from_process<int>(rt(), inbox, srv, Get{});
  EXPECT_TRUE(r.ok()) << r.status();
}

TEST_P(ServerTest, StopRunsTerminateAndExitsWithTheReason) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  Ref ref = inbox.context().monitor(srv);
  inbox.context().cast(srv, StopCast{ExitReason::shutdown("bye")});
  EXPECT_EQ(must_receive<Terminated>(inbox).reason, ExitReason::shutdown("bye"));
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::shutdown("bye"));
}

TEST_P(ServerTest, IdleTimeoutFiresAfterQuietPeriodAndCanBeTurnedOff) {
  Inbox inbox(rt());
  int64_t start = rt().now_ms();
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0,
                                       CounterOptions{.idle_timeout = 50ms, .max_timeouts = 2});
  must_receive<Started>(inbox);
  TimedOut first = must_receive<TimedOut>(inbox);
  TimedOut second = must_receive<TimedOut>(inbox);
  EXPECT_TRUE(matches_wait(first.at_ms - start, 50));
  EXPECT_TRUE(matches_wait(second.at_ms - first.at_ms, 50));
  EXPECT_TRUE(nothing_of_type<TimedOut>(inbox, 200ms)) << "set_idle_timeout(0) did not turn it off";
  EXPECT_TRUE(rt().alive(srv));
}

TEST_P(ServerTest, MessagesPostponeIdleTimeout) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0,
                                       CounterOptions{.idle_timeout = 100ms, .max_timeouts = 1});
  must_receive<Started>(inbox);
  int64_t last_call = 0;
  for (int i = 0; i < 3; ++i) {
    // Each call is a callback that restarts the idle period.
    if (deterministic()) rt().advance_time(60ms);
    last_call = rt().now_ms();  // the server handles the call at or after this
    Result<int> r = call_from_process<int>(rt(), inbox, srv, Get{});
    ASSERT_TRUE(r.ok());
  }
  TimedOut t = must_receive<TimedOut>(inbox);
  EXPECT_TRUE(matches_wait(t.at_ms - last_call, 100));
}

TEST_P(ServerTest, CallToDeadServerIsNoProc) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  Ref ref = inbox.context().monitor(srv);
  inbox.context().cast(srv, StopCast{ExitReason::normal()});
  must_receive_down(inbox, ref);
  Result<int> r = call_from_process<int>(rt(), inbox, srv, Get{});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNoProc) << r.status();
}

TEST_P(ServerTest, ServerThatStopsWithoutReplyingGivesCallerExited) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  Result<int> r = call_from_process<int>(rt(), inbox, srv, StopCall{});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kExited) << r.status();
  EXPECT_EQ(must_receive<Terminated>(inbox).reason, ExitReason::error("stopped in call"));
  EXPECT_FALSE(rt().alive(srv));
}

struct TimeoutOutcome {
  StatusCode first;
  StatusCode second;
  int value;
  size_t left_in_mailbox;
};

TEST_P(ServerTest, CallTimeoutIsTimeoutAndLateReplyIsDropped) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 5);
  must_receive<Started>(inbox);
  auto outcome =
      run_in_process<TimeoutOutcome>(rt(), inbox, [srv](Context self) -> Task<TimeoutOutcome> {
        Result<int> late = co_await self.call<int>(srv, DeferredGet{}, 50ms);
        // The server answers the timed-out call now; that reply must not
        // reach the caller's mailbox (it arrives before the next reply).
        self.cast(srv, ReleaseDeferred{});
        Result<int> next = co_await self.call<int>(srv, Get{});
        co_return TimeoutOutcome{late.status().code(), next.status().code(), next.ok() ? *next : -1,
                                 self.message_queue_len()};
      });
  ASSERT_TRUE(outcome.has_value());
  EXPECT_EQ(outcome->first, StatusCode::kTimeout);
  EXPECT_EQ(outcome->second, StatusCode::kOk);
  EXPECT_EQ(outcome->value, 5);
  EXPECT_EQ(outcome->left_in_mailbox, 0u);
  must_receive<Deferred>(inbox);
}

TEST_P(ServerTest, ExceptionInCastBecomesExitReasonAfterTerminate) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  Ref ref = inbox.context().monitor(srv);
  inbox.context().cast(srv, CrashCast{});
  Terminated t = must_receive<Terminated>(inbox);
  EXPECT_EQ(t.reason.kind(), ExitReason::Kind::kException) << t.reason;
  Down d = must_receive_down(inbox, ref);
  EXPECT_EQ(d.reason.kind(), ExitReason::Kind::kException) << d.reason;
  EXPECT_NE(std::string(d.reason.detail()).find("cast crash"), std::string::npos) << d.reason;
  EXPECT_EQ(t.reason, d.reason);
  EXPECT_TRUE(logs_.wait_for(LogLevel::kError, {srv.to_string(), "cast crash"})) << logs_.dump();
}

TEST_P(ServerTest, ExceptionInHandleCallGivesCallerExited) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  Ref ref = inbox.context().monitor(srv);
  Result<int> r = call_from_process<int>(rt(), inbox, srv, CrashCall{});
  EXPECT_EQ(r.status().code(), StatusCode::kExited) << r.status();
  Down d = must_receive_down(inbox, ref);
  EXPECT_EQ(d.reason.kind(), ExitReason::Kind::kException) << d.reason;
  EXPECT_NE(std::string(d.reason.detail()).find("call crash"), std::string::npos) << d.reason;
}

TEST_P(ServerTest, UntrappedExitSignalKillsServerWithoutTerminate) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  must_receive<Started>(inbox);
  Ref ref = inbox.context().monitor(srv);
  inbox.context().exit(srv, ExitReason::error("external"));
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::error("external"));
  // terminate() would have sent before the Down (same sender): none came.
  EXPECT_FALSE(inbox.receive<Terminated>(0ms).has_value());
}

TEST_P(ServerTest, ReplyOfAnotherTypeIsBadType) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 0);
  Result<std::string> r = call_from_process<std::string>(rt(), inbox, srv, Get{});
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kBadType) << r.status();
  EXPECT_TRUE(rt().alive(srv));
}

TEST_P(ServerTest, UnexpectedCallEndsServerWithError) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Bare>();
  Ref ref = inbox.context().monitor(srv);
  Result<int> r = call_from_process<int>(rt(), inbox, srv, Get{});
  EXPECT_EQ(r.status().code(), StatusCode::kExited) << r.status();
  Down d = must_receive_down(inbox, ref);
  EXPECT_EQ(d.reason.kind(), ExitReason::Kind::kError) << d.reason;
  EXPECT_NE(std::string(d.reason.detail()).find("unexpected"), std::string::npos) << d.reason;
}

TEST_P(ServerTest, UnexpectedCastEndsServerWithError) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Bare>();
  Ref ref = inbox.context().monitor(srv);
  inbox.context().cast(srv, Add{1});
  Down d = must_receive_down(inbox, ref);
  EXPECT_EQ(d.reason.kind(), ExitReason::Kind::kError) << d.reason;
}

TEST_P(ServerTest, UnexpectedInfoIsDroppedAndServerContinues) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 9);
  // Counter passes unknown infos to the default handle_info, which drops them.
  auto r = get_after(inbox, srv, [srv](Context self) { self.send(srv, std::string("stray")); });
  ASSERT_TRUE(r.has_value());
  ASSERT_TRUE(r->ok()) << r->status();
  EXPECT_EQ(r->value(), 9);
  EXPECT_TRUE(rt().alive(srv));
}

TEST_P(ServerTest, SpawnServerLinkTiesServerToParent) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid parent = rt().spawn([to](Context self) -> Task<> {
    Pid srv = self.spawn_server_link<Counter>(to, 0);
    (void)srv;
    Crash c = co_await self.receive<Crash>();
    self.exit(c.reason);
  });
  Pid srv = must_receive<Started>(inbox).pid;
  Ref ref = inbox.context().monitor(srv);
  rt().send(parent, Crash{ExitReason::error("parent died")});
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::error("parent died"));
}

TEST_P(ServerTest, CallFromProcessByRegisteredName) {
  Inbox inbox(rt());
  Pid srv = rt().spawn_server<Counter>(inbox.pid(), 40);
  ASSERT_TRUE(rt().register_name("counter", srv).ok());
  Pid to = inbox.pid();
  rt().spawn([to](Context self) -> Task<> {
    Pid target = self.runtime().whereis("counter");
    Result<int> r = co_await self.call<int>(target, Add{2});
    self.send(to, ClientGot{r.ok(), r.ok() ? *r : 0, r.status().code()});
  });
  ClientGot got = must_receive<ClientGot>(inbox);
  EXPECT_TRUE(got.ok);
  EXPECT_EQ(got.value, 42);
}

PLEXUS_INSTANTIATE_SCHEDULERS(ServerTest);

}  // namespace
}  // namespace plexus_test

// A Server's start and its parent, as gen_server's: start_server_link waits
// for init() and reports its outcome (its error, an exception, ignore)
// without an exit signal; a trapping server stops with its parent's exit and
// runs terminate(); one that does not trap is simply ended.
#include <gtest/gtest.h>

#include <string>

#include "plexus/plexus.h"
#include "probe_server.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::Result;
using plexus::Status;

struct Outcome {
  Result<Pid> started;
  size_t queued;  // messages in the starter's mailbox right after
};
struct Go {};

class ServerStartTest : public SchedTest {
 protected:
  // A process that starts a Probe with start_server_link (or start_server)
  // and reports the outcome; it then waits for Go, and exits with
  // error("bye").
  Pid starter(Inbox& inbox, ProbeOptions options, bool link = true, bool trap = false) {
    Pid to = inbox.pid();
    return rt().spawn([to, options, link, trap](Context self) -> Task<> {
      self.trap_exit(trap);
      Result<Pid> r = link ? co_await self.start_server_link<Probe>(to, options)
                           : co_await self.start_server<Probe>(to, options);
      self.send(to, Outcome{r, self.message_queue_len()});
      co_await self.receive<Go>();
      self.exit(ExitReason::error("bye"));
    });
  }
};

TEST_P(ServerStartTest, StartServerLinkReturnsThePidOnceInitIsDone) {
  Inbox inbox(rt());
  starter(inbox, {});
  // init() ran before the start returned: its report comes first.
  Pid ran = must_receive<InitRan>(inbox).pid;
  Outcome o = must_receive<Outcome>(inbox);
  ASSERT_TRUE(o.started.ok()) << o.started.status();
  EXPECT_EQ(*o.started, ran);
  EXPECT_TRUE(rt().alive(ran));
}

TEST_P(ServerStartTest, AnInitErrorIsTheStartsResultAndNoExitSignal) {
  Inbox inbox(rt());
  Pid s = starter(inbox, {.init = Status(StatusCode::kInvalidArgument, "bad config")},
                  /*link=*/true, /*trap=*/true);
  Pid server = must_receive<InitRan>(inbox).pid;
  Outcome o = must_receive<Outcome>(inbox);
  ASSERT_FALSE(o.started.ok());
  EXPECT_NE(o.started.status().message().find("bad config"), std::string::npos)
      << o.started.status();
  EXPECT_EQ(o.queued, 0u) << "a trapping starter got an Exit from the failed start";
  EXPECT_FALSE(rt().alive(server));
  EXPECT_TRUE(rt().alive(s)) << "the starter lives on";
  EXPECT_TRUE(nothing_of_type<Terminated>(inbox)) << "terminate() runs only after init()";
}

TEST_P(ServerStartTest, AnInitThatThrowsIsTheStartsResult) {
  Inbox inbox(rt());
  Pid s = starter(inbox, {.throw_in_init = true});
  Outcome o = must_receive<Outcome>(inbox);
  ASSERT_FALSE(o.started.ok());
  EXPECT_NE(o.started.status().message().find("init threw"), std::string::npos)
      << o.started.status();
  EXPECT_TRUE(rt().alive(s)) << "a starter that does not trap is not killed by the failed start";
}

TEST_P(ServerStartTest, AnInitThatIgnoresGivesAnOkNullPid) {
  Inbox inbox(rt());
  Pid s = starter(inbox, {.init = plexus::Server::ignore()});
  Pid server = must_receive<InitRan>(inbox).pid;
  Outcome o = must_receive<Outcome>(inbox);
  ASSERT_TRUE(o.started.ok()) << o.started.status();
  EXPECT_FALSE(*o.started);
  EXPECT_TRUE(eventually(rt(), [&] { return !rt().alive(server); }));
  EXPECT_TRUE(rt().alive(s));
}

TEST_P(ServerStartTest, ATrappingServerStopsWithItsParentAndRunsTerminate) {
  Inbox inbox(rt());
  Pid s = starter(inbox, {.trap_exit = true});
  Pid server = *must_receive<Outcome>(inbox).started;
  Ref ref = inbox.context().monitor(server);
  rt().send(s, Go{});
  Terminated t = must_receive<Terminated>(inbox);
  EXPECT_EQ(t.pid, server);
  EXPECT_EQ(t.reason, ExitReason::error("bye"));
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::error("bye"));
  EXPECT_TRUE(nothing_of_type<InfoSeen>(inbox)) << "the parent's Exit is not handle_info's";
}

TEST_P(ServerStartTest, AServerThatDoesNotTrapIsEndedByItsParentWithoutTerminate) {
  Inbox inbox(rt());
  Pid s = starter(inbox, {});
  Pid server = *must_receive<Outcome>(inbox).started;
  Ref ref = inbox.context().monitor(server);
  rt().send(s, Go{});
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::error("bye"));
  EXPECT_TRUE(nothing_of_type<Terminated>(inbox));
}

TEST_P(ServerStartTest, AnExitFromAnotherProcessIsHandleInfos) {
  Inbox inbox(rt());
  starter(inbox, {.trap_exit = true});
  Pid server = *must_receive<Outcome>(inbox).started;
  inbox.context().exit(server, ExitReason::error("not your parent"));
  EXPECT_EQ(must_receive<InfoSeen>(inbox).pid, server);
  EXPECT_TRUE(rt().alive(server));
}

TEST_P(ServerStartTest, AnUnlinkedServerOutlivesItsStarter) {
  Inbox inbox(rt());
  Pid s = starter(inbox, {.trap_exit = true}, /*link=*/false);
  Pid server = *must_receive<Outcome>(inbox).started;
  Ref ref = inbox.context().monitor(s);
  rt().send(s, Go{});
  must_receive_down(inbox, ref);
  EXPECT_TRUE(rt().alive(server));
  EXPECT_TRUE(nothing_of_type<Terminated>(inbox));
}

// Started from outside any process, a server's parent is the outside world:
// Runtime::exit is its parent's exit signal.
TEST_P(ServerStartTest, ATopLevelTrappingServerStopsOnRuntimeExit) {
  Inbox inbox(rt());
  Pid server = rt().spawn_server<Probe>(inbox.pid(), ProbeOptions{.trap_exit = true});
  must_receive<InitRan>(inbox);
  Ref ref = inbox.context().monitor(server);
  rt().exit(server, ExitReason::shutdown());
  EXPECT_EQ(must_receive<Terminated>(inbox).reason, ExitReason::shutdown());
  EXPECT_EQ(must_receive_down(inbox, ref).reason, ExitReason::shutdown());
}

PLEXUS_INSTANTIATE_SCHEDULERS(ServerStartTest);

}  // namespace
}  // namespace plexus_test

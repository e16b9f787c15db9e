// process_info: a process's snapshot of itself (its mailbox, links, monitors,
// name, state), asked from outside any process and from another process.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

#include "plexus/plexus.h"
#include "probe_server.h"
#include "test_processes.h"
#include "test_support.h"

namespace plexus_test {
namespace {

using plexus::ProcessInfo;

struct Unwanted {
  int n;
};
struct Asked {
  plexus::Result<ProcessInfo> info;
};
struct SelfInfo {
  ProcessInfo info;
};

class ProcessInfoTest : public SchedTest {};

// Everything process_info tells, of a process that waits in a receive for
// what never comes, with messages it does not want queued.
TEST_P(ProcessInfoTest, TellsTheMailboxLinksMonitorsAndName) {
  Inbox inbox(rt());
  Pid linked = rt().spawn(worker);
  Pid watched = rt().spawn(worker);
  Pid named = rt().spawn(worker);
  ASSERT_TRUE(rt().register_name("named", named).ok());
  Pid to = inbox.pid();
  Pid p = rt().spawn([=](Context self) -> Task<> {
    self.trap_exit(true);
    (void)self.link(linked);
    self.monitor(watched);
    self.monitor("named");
    (void)self.register_name("subject");
    self.send(to, Ping{self.self()});
    co_await self.receive<Stop>();
  });
  must_receive<Ping>(inbox);
  Ref watching_it = inbox.context().monitor(p);
  for (int i = 0; i < 3; ++i) rt().send(p, Unwanted{i});

  // It runs while it reads its mailbox (after the Ping, after each Unwanted),
  // then waits in its receive with the three queued.
  plexus::Result<ProcessInfo> info = rt().process_info(p);
  ASSERT_TRUE(eventually(rt(), [&] {
    info = rt().process_info(p);
    return info.ok() && info->status == ProcessInfo::Status::kWaiting &&
           info->message_queue_len == 3;
  })) << info.status();
  EXPECT_EQ(info->pid, p);
  EXPECT_EQ(info->registered_name, "subject");
  EXPECT_EQ(info->message_queue_len, 3u);
  EXPECT_TRUE(info->trap_exit);
  EXPECT_FALSE(info->server);
  EXPECT_FALSE(info->parent.valid()) << "spawned from outside any process";
  EXPECT_EQ(info->links, std::vector<Pid>{linked});
  ASSERT_EQ(info->monitors.size(), 2u);
  EXPECT_EQ(info->monitors[0].pid, watched);
  EXPECT_EQ(info->monitors[0].name, "");
  EXPECT_EQ(info->monitors[1].pid, named);
  EXPECT_EQ(info->monitors[1].name, "named");
  EXPECT_EQ(info->monitored_by, std::vector<Pid>{inbox.pid()});
  (void)watching_it;

  rt().send(p, Stop{});
  must_receive_down(inbox, watching_it);
}

TEST_P(ProcessInfoTest, AProcessThatIsNotAliveIsNoproc) {
  Inbox inbox(rt());
  auto [dead, ref] = inbox.context().spawn_monitor([] {});
  must_receive_down(inbox, ref);
  EXPECT_EQ(rt().process_info(dead).status().code(), plexus::StatusCode::kNoProc);
  EXPECT_EQ(rt().process_info(Pid{}).status().code(), plexus::StatusCode::kNoProc);
  EXPECT_EQ(rt().process_info(Pid{3, 1, 1}).status().code(), plexus::StatusCode::kInvalidArgument);
}

// A request queued when the process exits is answered, not left to time out.
TEST_P(ProcessInfoTest, ARequestQueuedAtTheExitIsAnsweredNoproc) {
  if (deterministic()) GTEST_SKIP() << "needs a process busy on another thread";
  Inbox inbox(rt());
  auto go = std::make_shared<std::atomic<bool>>(false);
  Pid p = rt().spawn([go](Context self) {
    while (!go->load()) std::this_thread::yield();
    self.exit(ExitReason::error("gone"));
  });
  Pid to = inbox.pid();
  Pid asker = rt().spawn([p, to](Context self) -> Task<> {
    auto info = co_await self.process_info(p, std::chrono::seconds(30));
    self.send(to, Asked{std::move(info)});
  });
  // Once the asker waits, its request is in p's in-queue; p then exits.
  ASSERT_TRUE(eventually(rt(), [&] {
    auto state = rt().process_info(asker);
    return state.ok() && state->status == ProcessInfo::Status::kWaiting;
  }));
  go->store(true);
  auto start = std::chrono::steady_clock::now();
  Asked asked = must_receive<Asked>(inbox);
  EXPECT_EQ(asked.info.status().code(), plexus::StatusCode::kNoProc) << asked.info.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

// A process busy in a turn cannot answer: the asker's timeout ends the wait,
// and the process answers once its turn ends.
TEST_P(ProcessInfoTest, ABusyProcessTimesOutThenAnswers) {
  if (deterministic()) GTEST_SKIP() << "needs a process busy on another thread";
  auto go = std::make_shared<std::atomic<bool>>(false);
  Pid p = rt().spawn([go](Context self) -> Task<> {
    while (!go->load()) std::this_thread::yield();
    co_await self.receive<Stop>();
  });
  plexus::Result<ProcessInfo> late = rt().process_info(p, std::chrono::milliseconds(50));
  EXPECT_EQ(late.status().code(), plexus::StatusCode::kTimeout) << late.status();
  go->store(true);
  plexus::Result<ProcessInfo> info = rt().process_info(p);
  ASSERT_TRUE(info.ok()) << info.status();
  // Asked as it entered its receive it was running; it then waits there.
  EXPECT_TRUE(eventually(rt(), [&] {
    auto now = rt().process_info(p);
    return now.ok() && now->status == ProcessInfo::Status::kWaiting;
  }));
  rt().send(p, Stop{});
}

// From a process: asking another waits for its answer; asking oneself is
// immediate, and the process is running.
TEST_P(ProcessInfoTest, AProcessAsksAnotherAndItself) {
  Inbox inbox(rt());
  Pid target = rt().spawn(worker);
  Pid to = inbox.pid();
  rt().spawn([target, to](Context self) -> Task<> {
    auto info = co_await self.process_info(target);
    self.send(to, Asked{std::move(info)});
    self.send(to, SelfInfo{self.process_info()});
    auto same = co_await self.process_info(self.self());
    self.send(to, Asked{std::move(same)});
  });
  Asked asked = must_receive<Asked>(inbox);
  ASSERT_TRUE(asked.info.ok()) << asked.info.status();
  EXPECT_EQ(asked.info->pid, target);
  SelfInfo mine = must_receive<SelfInfo>(inbox);
  EXPECT_EQ(mine.info.status, ProcessInfo::Status::kRunning);
  Asked again = must_receive<Asked>(inbox);
  ASSERT_TRUE(again.info.ok());
  EXPECT_EQ(again.info->status, ProcessInfo::Status::kRunning);
  EXPECT_EQ(again.info->pid, mine.info.pid);
}

// A Server between messages waits; it knows its parent.
TEST_P(ProcessInfoTest, AServerTellsItsParent) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  Pid starter = rt().spawn([to](Context self) -> Task<> {
    plexus::Result<Pid> started = co_await self.start_server_link<Probe>(to, ProbeOptions{});
    self.send(to, Joined{started.ok() ? *started : Pid{}});
    co_await self.receive<Stop>();
  });
  must_receive<InitRan>(inbox);
  Pid server = must_receive<Joined>(inbox).pid;
  ASSERT_TRUE(server.valid());
  plexus::Result<ProcessInfo> info = rt().process_info(server);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_TRUE(info->server);
  EXPECT_EQ(info->status, ProcessInfo::Status::kWaiting);
  EXPECT_EQ(info->parent, starter);
  EXPECT_EQ(info->links, std::vector<Pid>{starter});
  rt().send(starter, Stop{});
}

const plexus::ProcessLoad* load_of(const std::vector<plexus::ProcessLoad>& loads, Pid pid) {
  for (const plexus::ProcessLoad& l : loads) {
    if (l.pid == pid) return &l;
  }
  return nullptr;
}

// process_loads reads every live process from outside, without a message to
// it: its mailbox (a run of sends from one turn counts whole), what it has
// taken out (received, flushed), its name; and the runtime's metric of the
// longest mailbox says the same.
TEST_P(ProcessInfoTest, LoadsTellMailboxesAndMessagesTakenFromOutside) {
  Inbox inbox(rt());
  Pid to = inbox.pid();
  // Wants only Stop: what else comes stays queued.
  Pid hoarder = rt().spawn([](Context self) -> Task<> { co_await self.receive<Stop>(); });
  ASSERT_TRUE(rt().register_name("hoarder", hoarder).ok());
  // Takes 40 Pings, then flushes what else came, then tells.
  Pid taker = rt().spawn([to](Context self) -> Task<> {
    for (int i = 0; i < 40; ++i) co_await self.receive<Ping>();
    co_await self.receive<Stop>();
    size_t flushed = self.flush();
    self.send(to, Unwanted{static_cast<int>(flushed)});
    co_await self.receive<Stop>();
  });
  // 50 sends in one turn: one run, taken in at once.
  rt().spawn([hoarder](Context self) -> Task<> {
    for (int i = 0; i < 50; ++i) self.send(hoarder, Unwanted{i});
    co_return;
  });
  for (int i = 0; i < 5; ++i) rt().send(hoarder, Unwanted{i});
  for (int i = 0; i < 40; ++i) rt().send(taker, Ping{to});
  for (int i = 0; i < 7; ++i) rt().send(taker, Unwanted{i});

  std::vector<plexus::ProcessLoad> loads;
  auto shows = [&](Pid pid, uint32_t queued, uint32_t taken) {
    const plexus::ProcessLoad* l = load_of(loads, pid);
    return l && l->message_queue_len == queued && l->messages_taken == taken;
  };
  EXPECT_TRUE(eventually(rt(), [&] {
    loads = rt().process_loads();
    return shows(hoarder, 55, 0) && shows(taker, 7, 40);
  }));
  EXPECT_EQ(load_of(loads, hoarder)->registered_name, "hoarder");
  EXPECT_EQ(load_of(loads, taker)->registered_name, "");
  plexus::MetricsWriter writer;
  rt().metrics().collect(writer);
  EXPECT_NE(writer.prometheus().find("\nplexus_largest_mailbox_messages 55\n"), std::string::npos)
      << writer.prometheus();

  rt().send(taker, Stop{});  // taken: 40 Pings, the Stop, then 7 flushed
  EXPECT_EQ(must_receive<Unwanted>(inbox).n, 7);
  EXPECT_TRUE(eventually(rt(), [&] {
    loads = rt().process_loads();
    return shows(taker, 0, 48);
  }));
  // A process that ended is not listed.
  rt().send(hoarder, Stop{});
  EXPECT_TRUE(eventually(rt(), [&] { return load_of(rt().process_loads(), hoarder) == nullptr; }));
}

PLEXUS_INSTANTIATE_SCHEDULERS(ProcessInfoTest);

}  // namespace
}  // namespace plexus_test

// Plexus basics: processes, messages, links, monitors, registered names, a
// key-value store, a heartbeat monitor, a work pool and a supervisor.
//
// This program follows an Elixir chapter on processes step by step. The
// chapter types into iex, the Elixir shell; here the shell is an Inbox: a real
// process, with a pid, driven by main()'s thread. Every step prints what it
// did and what came back, in order.
//
// Process bodies are coroutines, `Task<> body(Context self)`, or plain
// functions; messages are plain structs, matched by type. The shell waits for
// every reply with a timeout: if something expected does not come, the
// program says what was missing and exits with 1.
//
// One file on purpose: the tour is read top to bottom, as the chapter is.

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "plexus/plexus.h"

namespace {

using namespace std::chrono_literals;
using plexus::after;
using plexus::Context;
using plexus::Down;
using plexus::Exit;
using plexus::ExitReason;
using plexus::Inbox;
using plexus::match;
using plexus::Pid;
using plexus::Ref;
using plexus::Runtime;
using plexus::Status;
using plexus::Task;

// How long the shell waits for a message it expects.
constexpr std::chrono::milliseconds kWait = 2s;

// ---------------------------------------------------------------- printing

void section(std::string_view title) { std::cout << "\n== " << title << " ==" << std::endl; }

// Prints one line of the walk-through.
template <class... Args>
void say(const Args&... args) {
  std::ostringstream line;
  line << std::boolalpha;
  (line << ... << args);
  std::cout << "  " << line.str() << std::endl;
}

std::string show(const std::vector<Pid>& pids) {
  std::string text = "[";
  for (const Pid& pid : pids) text += (text.size() > 1 ? ", " : "") + pid.to_string();
  return text + "]";
}

std::string show(const std::optional<int>& value) {
  return value ? std::to_string(*value) : std::string("nil");
}

// ---------------------------------------------------------------- expecting

// A step that did not go as the chapter says; main() prints it and exits 1.
struct StepFailed {
  std::string what;
};

void check(bool ok, std::string what) {
  if (!ok) throw StepFailed{"expected " + std::move(what)};
}

// The shell's next message of type T; fails the step if none comes in time.
template <class T>
T expect(Inbox& shell, std::string_view what) {
  std::optional<T> msg = shell.receive<T>(kWait);
  if (!msg) throw StepFailed{"missing " + std::string(what) + " (nothing within 2 s)"};
  return std::move(*msg);
}

// The Down of the monitor `ref`.
Down expect_down(Inbox& shell, Ref ref, std::string_view what) {
  std::optional<Down> down;
  shell.receive(match([ref](const Down& d) { return d.ref == ref; }, [&](Down& d) { down = d; }),
                after(kWait, [] {}));
  if (!down) throw StepFailed{"missing the Down of " + std::string(what) + " (nothing within 2 s)"};
  return *down;
}

// ---------------------------------------------------------------- messages and processes

struct Ping {
  Pid from;
};
struct Pong {
  Pid from;
};

// The chapter's PingPong: answers every {ping, sender} with {pong, self}.
Task<> ping_pong(Context self) {
  for (;;) {
    co_await self.receive([&](Ping& ping) { self.send(ping.from, Pong{self.self()}); });
  }
}

struct Compute {  // {compute, x, from}
  int x;
  Pid from;
};
struct Computed {  // {result, x * x}
  int square;
};
struct Quit {  // {exit, reason}
  ExitReason reason;
};

// Throws, as Elixir's arithmetic raises on "square this", when the square
// does not fit in an int.
int square(int x) {
  long long wide = static_cast<long long>(x) * x;
  if (wide > std::numeric_limits<int>::max()) {
    throw std::overflow_error(std::to_string(x) + " squared does not fit in an int");
  }
  return static_cast<int>(wide);
}

// The chapter's Worker: squares numbers on request, for ever, and exits with
// the reason it is given. The loop is the tail-recursive do_work().
Task<> square_worker(Context self) {
  for (;;) {
    co_await self.receive([&](Compute& c) { self.send(c.from, Computed{square(c.x)}); },
                          [&](Quit& q) { self.exit(q.reason); });
  }
}

// ---------------------------------------------------------------- 1. self, send, receive

void self_send_receive(Runtime& rt) {
  section("1. self, send and receive");
  Inbox shell(rt);  // the iex session: a process driven by this thread
  Context me = shell.context();

  say("self() = ", shell.pid());

  me.send(shell.pid(), std::string("ping"));
  say("send(self(), \"ping\")");
  say("receive -> \"", expect<std::string>(shell, "the \"ping\" sent to self"), "\"");

  for (int i = 1; i <= 5; ++i) me.send(shell.pid(), i * i);
  say("sent the squares of 1..5 to self(): 1 4 9 16 25");
  say("receive -> ", expect<int>(shell, "the first square"));

  // flush(): the rest of the mailbox, in the order it was sent.
  say("flush():");
  int flushed = 0;
  while (std::optional<plexus::Message> msg = shell.receive_any(0ms)) {
    if (const int* n = msg->get_if<int>()) say("  ", *n);
    ++flushed;
  }
  check(flushed == 4, "flush() to find the 4 other squares");
}

// ---------------------------------------------------------------- 2. spawn and alive?

void spawn_and_alive(Runtime& rt) {
  section("2. spawn and alive?");
  Inbox shell(rt);
  Context me = shell.context();

  // spawn(fn -> 6 * 7 end): the body returns at once and the result is
  // dropped. Monitoring it tells the shell when it is gone.
  auto [pid, ref] = me.spawn_monitor([] { [[maybe_unused]] int answer = 6 * 7; });
  say("spawn(fn -> 6 * 7) = ", pid);
  Down down = expect_down(shell, ref, "the 6 * 7 process");
  say("it exited: ", down.reason, "; alive?(", pid, ") = ", rt.alive(pid));
  check(!rt.alive(pid), "the 6 * 7 process to be dead");

  // A process that raises: its reason says why; the runtime logs the crash
  // (on stderr) and nobody else is affected.
  auto [oops, oops_ref] = me.spawn_monitor([] { throw std::runtime_error("oops"); });
  say("spawn(fn -> raise \"oops\") = ", oops);
  say("it exited: ", expect_down(shell, oops_ref, "the raising process").reason);

  // To get a result, the process sends it to its parent.
  rt.spawn([](Context self, Pid parent) { self.send(parent, 6 * 7); }, shell.pid());
  say("spawn(fn -> send(parent, 6 * 7)); receive -> ",
      expect<int>(shell, "6 * 7 from the spawned process"));

  // The Worker loops, squaring on request.
  Pid worker = rt.spawn(square_worker);
  say("worker = spawn(Worker.do_work) = ", worker);
  me.send(worker, Compute{4, shell.pid()});
  Computed c = expect<Computed>(shell, "the square of 4");
  say("send(worker, {compute, 4, self()}) -> {result, ", c.square, "}");
  say("alive?(worker) = ", rt.alive(worker));
  me.send(worker, Compute{16, shell.pid()});
  c = expect<Computed>(shell, "the square of 16");
  say("send(worker, {compute, 16, self()}) -> {result, ", c.square, "}");

  // Input it cannot handle kills it.
  Ref worker_ref = me.monitor(worker);
  me.send(worker, Compute{100000, shell.pid()});
  say("send(worker, {compute, 100000, self()}) -> it exited: ",
      expect_down(shell, worker_ref, "the worker").reason);
  say("alive?(worker) = ", rt.alive(worker));
  check(!rt.alive(worker), "the worker to be dead");
}

// ---------------------------------------------------------------- 3. links

struct Spawned {
  Pid pid;
};

// Starts a Worker linked to itself, tells `shell` its pid, then answers pings:
// a process whose life is tied to its worker's.
Task<> linked_parent(Context self, Pid shell) {
  self.send(shell, Spawned{self.spawn_link(square_worker)});
  co_await ping_pong(self);
}

void links(Runtime& rt) {
  section("3. Links and exit reasons");
  Inbox shell(rt);
  Context me = shell.context();

  // An abnormal exit travels along the link and kills the parent.
  auto [parent, parent_ref] = me.spawn_monitor(linked_parent, shell.pid());
  Pid worker = expect<Spawned>(shell, "the linked worker's pid").pid;
  say("parent ", parent, " is linked to worker ", worker, " (the shell monitors the parent)");
  me.send(worker, Quit{ExitReason::error("oops")});
  say("send(worker, {exit, \"oops\"})");
  Down down = expect_down(shell, parent_ref, "the parent");
  say("the link killed the parent too: Down{", down.pid, ", ", down.reason, "}");

  // A normal exit does not.
  auto [parent2, parent2_ref] = me.spawn_monitor(linked_parent, shell.pid());
  Pid worker2 = expect<Spawned>(shell, "the second linked worker's pid").pid;
  Ref worker2_ref = me.monitor(worker2);
  say("parent ", parent2, " is linked to worker ", worker2);
  me.send(worker2, Quit{ExitReason::normal()});
  say("send(worker, {exit, normal}) -> the worker exited: ",
      expect_down(shell, worker2_ref, "the worker").reason);
  me.send(parent2, Ping{shell.pid()});
  expect<Pong>(shell, "a pong from the parent that survived");
  say("the parent still answers ping -> pong; alive?(parent) = ", rt.alive(parent2));
  me.exit(parent2, ExitReason::kill());  // done with it
  expect_down(shell, parent2_ref, "the second parent");

  // A process that traps exits gets the exit signal as an Exit message.
  me.trap_exit(true);
  Pid linked = me.spawn_link(square_worker);
  say("trap_exit(true); spawn_link(Worker) = ", linked);
  me.send(linked, Quit{ExitReason::error("oops")});
  Exit exit = expect<Exit>(shell, "the Exit message of the linked worker");
  say("send(worker, {exit, \"oops\"}) -> the shell receives Exit{", exit.from, ", ", exit.reason,
      "}");

  // exit(pid, kill) cannot be trapped, and linked processes see `killed`.
  Pid victim = me.spawn_link([](Context self) -> Task<> {
    self.trap_exit(true);
    co_await ping_pong(self);
  });
  me.send(victim, Ping{shell.pid()});
  expect<Pong>(shell, "a pong from the trapping victim");
  say("victim ", victim, " traps exits and is linked to the shell");
  me.exit(victim, ExitReason::kill());
  say("exit(victim, kill) -> alive?(victim) = ", rt.alive(victim));
  exit = expect<Exit>(shell, "the Exit message of the killed victim");
  say("the shell receives Exit{", exit.from, ", ", exit.reason, "}");
  check(exit.reason == ExitReason::killed(), "linked processes to see `killed`");
}

// ---------------------------------------------------------------- 4. monitors

void monitors(Runtime& rt) {
  section("4. Monitors");
  Inbox shell(rt);
  Context me = shell.context();

  // spawn_monitor(fn -> :timer.sleep(50) end): a sleep is a receive that only
  // has an `after` clause.
  auto [sleeper, sleeper_ref] =
      me.spawn_monitor([](Context self) -> Task<> { co_await self.receive(after(50ms, [] {})); });
  say("spawn_monitor(fn -> sleep(50)) = ", sleeper, ", ", sleeper_ref);
  Down down = expect_down(shell, sleeper_ref, "the sleeper");
  say("the shell receives Down{", down.ref, ", ", down.pid, ", ", down.reason, "}");

  // Unidirectional: a watcher's death does not touch what it watched.
  Pid target = rt.spawn(ping_pong);
  auto [watcher, watcher_ref] = me.spawn_monitor(
      [](Context self, Pid watched) {
        self.monitor(watched);
        self.exit(ExitReason::error("watcher gave up"));
      },
      target);
  say("watcher ", watcher, " monitors ", target,
      ", then exits: ", expect_down(shell, watcher_ref, "the watcher").reason);
  me.send(target, Ping{shell.pid()});
  expect<Pong>(shell, "a pong from the watched process");
  say(target, " still answers ping -> pong: monitors are one-way");

  // Stackable: each monitor gets its own Down; removing one leaves the rest.
  Ref m1 = me.monitor(target);
  Ref m2 = me.monitor(target);
  Ref m3 = me.monitor(target);
  me.demonitor(m3);
  say("monitor(target) three times: ", m1, ", ", m2, ", ", m3, "; demonitor(", m3, ")");
  me.exit(target, ExitReason::error("stop"));
  say("exit(target, \"stop\") ->");
  for (Ref ref : {m1, m2}) {
    down = expect_down(shell, ref, "the target");
    say("  Down{", down.ref, ", ", down.pid, ", ", down.reason, "}");
  }
  bool extra = shell.receive(match([m3](const Down& d) { return d.ref == m3; }, [](Down&) {}),
                             after(50ms, [] {}));
  check(!extra, "no Down for the removed monitor");
  say("  (none for ", m3, "; the shell is not harmed: a Down is only a message)");

  // Monitoring a process that is gone: a Down with `noproc`, at once.
  Ref late = me.monitor(target);
  down = expect_down(shell, late, "the dead target");
  say("monitor(dead target) -> Down{", down.ref, ", ", down.pid, ", ", down.reason, "}");
  check(down.reason == ExitReason::noproc(), "noproc for a dead pid");
}

// ---------------------------------------------------------------- 5. receive ... after

void receive_after(Runtime& rt) {
  section("5. receive ... after");
  Inbox shell(rt);

  // receive do _ -> 42 after 200 -> -42 end
  int result = 0;
  int64_t start = rt.now_ms();
  shell.receive([&](Ping&) { result = 42; }, after(200ms, [&] { result = -42; }));
  say("receive do Ping -> 42 after 200 -> -42 end  =>  ", result, "   (after ", rt.now_ms() - start,
      " ms: nobody sent anything)");
  check(result == -42, "the receive to time out");
}

// ---------------------------------------------------------------- the KV store

struct Put {  // {put, key, value, sender}
  std::string key;
  int value;
  Pid from;
};
struct Get {  // {get, key, sender}
  std::string key;
  Pid from;
};
struct Ok {};
struct Value {
  std::optional<int> value;  // nil if the key is not there
};

// The chapter's KV: the state is a map that lives in the process's loop.
Task<> kv_store(Context self) {
  std::map<std::string, int> map;
  for (;;) {
    co_await self.receive(
        [&](Put& put) {
          map[put.key] = put.value;
          self.send(put.from, Ok{});
        },
        [&](Get& get) {
          auto it = map.find(get.key);
          self.send(get.from, Value{it == map.end() ? std::nullopt : std::optional(it->second)});
        });
  }
}

// ---------------------------------------------------------------- 6. registered names

void registered_names(Runtime& rt) {
  section("6. Registered names");
  Inbox shell(rt);
  Context me = shell.context();

  Pid kv = rt.spawn(kv_store);
  Status registered = rt.register_name("kv", kv);
  say("kv = spawn(KV.loop) = ", kv, "; register(kv, \"kv\") -> ", registered);
  check(registered.ok(), "\"kv\" to be registered");
  say("whereis(\"kv\") = ", rt.whereis("kv"));

  Status sent = me.send("kv", Put{"a", 42, shell.pid()});
  check(sent.ok(), "a send to \"kv\" to succeed");
  expect<Ok>(shell, "ok from the KV store");
  say("send(\"kv\", {put, \"a\", 42, self()}) -> ok");
  sent = me.send("kv", Get{"a", shell.pid()});
  check(sent.ok(), "a send to \"kv\" to succeed");
  say("send(\"kv\", {get, \"a\", self()}) -> ",
      show(expect<Value>(shell, "the value of \"a\"").value));

  say("send(\"nobody\", ...) -> ", me.send("nobody", Get{"a", shell.pid()}));
  say("register(other, \"kv\") -> ", rt.register_name("kv", shell.pid()));

  // A name goes away with its process.
  Ref ref = me.monitor(kv);
  me.exit(kv, ExitReason::kill());
  expect_down(shell, ref, "the KV store");
  say("after exit(kv, kill): whereis(\"kv\") = ", rt.whereis("kv"));
}

// ---------------------------------------------------------------- 7. the KV store

void kv_session(Runtime& rt) {
  section("7. Storing state in a process: the KV store");
  Inbox shell(rt);
  Context me = shell.context();
  Pid kv = rt.spawn(kv_store);
  say("kv = spawn(KV.loop) = ", kv);

  auto get = [&](const std::string& key) {
    me.send(kv, Get{key, shell.pid()});
    say("send(kv, {get, \"", key, "\", self()}) -> ",
        show(expect<Value>(shell, "the value of \"" + key + "\"").value));
  };
  auto put = [&](const std::string& key, int value) {
    me.send(kv, Put{key, value, shell.pid()});
    expect<Ok>(shell, "ok from the KV store");
    say("send(kv, {put, \"", key, "\", ", value, ", self()}) -> ok");
  };

  get("a");
  put("a", 42);
  get("a");
  put("b", 7);
  put("a", 43);
  get("a");
  get("b");
}

// ---------------------------------------------------------------- 8. ping-pong and heartbeats

struct Watch {  // {monitor, pid}
  Pid pid;
};
struct ListAlive {  // {list_alive, sender}
  Pid from;
};
struct ListDead {  // {list_dead, sender}
  Pid from;
};
struct Pids {  // {reply, list}
  std::vector<Pid> pids;
};
// Sent to the monitor's observer whenever the alive or dead list changes
// (the chapter prints "was dead but is now alive" instead).
struct HeartChange {
  std::vector<Pid> alive;
  std::vector<Pid> dead;
};

struct HeartState {
  std::vector<Pid> monitors;
  std::vector<Pid> alive;
  std::vector<Pid> dead;
  std::map<Pid, int> pending;  // pings sent and not answered yet
};

bool contains(const std::vector<Pid>& pids, Pid pid) {
  return std::find(pids.begin(), pids.end(), pid) != pids.end();
}

// A pong: the sender is alive, whatever it was before.
void handle_pong(HeartState& st, Pid sender) {
  std::erase(st.dead, sender);
  st.pending.erase(sender);
  if (!contains(st.alive, sender)) st.alive.insert(st.alive.begin(), sender);
}

// A heartbeat: pings everyone; a process with three pings unanswered is dead.
void send_pings(Context self, HeartState& st) {
  for (Pid pid : st.monitors) {
    self.send(pid, Ping{self.self()});
    int unanswered = ++st.pending[pid];
    if (unanswered > 2 && !contains(st.dead, pid)) {
      st.dead.insert(st.dead.begin(), pid);
      std::erase(st.alive, pid);
    }
  }
}

// The chapter's HeartMonitor. Its loop waits for messages with an `after`
// clause that sends the pings; the wait is measured to the next heartbeat, so
// that a stream of messages does not postpone the pings.
Task<> heart_monitor(Context self, std::chrono::milliseconds interval, Pid observer) {
  Runtime& rt = self.runtime();
  HeartState st;
  int64_t next_beat = rt.now_ms() + interval.count();
  for (;;) {
    std::vector<Pid> alive = st.alive;
    std::vector<Pid> dead = st.dead;
    auto until_beat = std::chrono::milliseconds(std::max<int64_t>(0, next_beat - rt.now_ms()));
    co_await self.receive([&](Pong& pong) { handle_pong(st, pong.from); },
                          [&](Watch& watch) { st.monitors.push_back(watch.pid); },
                          [&](ListAlive& list) { self.send(list.from, Pids{st.alive}); },
                          [&](ListDead& list) { self.send(list.from, Pids{st.dead}); },
                          after(until_beat, [&] {
                            send_pings(self, st);
                            next_beat = rt.now_ms() + interval.count();
                          }));
    if (st.alive != alive || st.dead != dead) self.send(observer, HeartChange{st.alive, st.dead});
  }
}

struct Pause {};
struct Resume {};

// The chapter's NewWorker: answers pings, but not during a long job. Here a
// job lasts from Pause to Resume: meanwhile it receives only Resume, and the
// pings wait in its mailbox.
Task<> heartbeat_worker(Context self) {
  for (;;) {
    bool paused = false;
    co_await self.receive([&](Ping& ping) { self.send(ping.from, Pong{self.self()}); },
                          [&](Pause&) { paused = true; });
    if (paused) co_await self.receive([](Resume&) {});
  }
}

// Prints the heart monitor's changes until `done(change)`.
template <class Done>
void watch_heart(Inbox& shell, std::string_view what, Done done) {
  for (;;) {
    HeartChange change = expect<HeartChange>(shell, what);
    say("  heart monitor: alive ", show(change.alive), ", dead ", show(change.dead));
    if (done(change)) return;
  }
}

void ping_pong_and_heartbeats(Runtime& rt) {
  section("8. Ping-pong and a heartbeat monitor");
  Inbox shell(rt);
  Context me = shell.context();

  Pid pp = rt.spawn(ping_pong);
  me.send(pp, Ping{shell.pid()});
  Pong pong = expect<Pong>(shell, "a pong");
  say("pp = spawn(PingPong.loop) = ", pp, "; send(pp, {ping, self()}) -> {pong, ", pong.from, "}");

  Pid heart = rt.spawn(heart_monitor, 50ms, shell.pid());
  Pid w1 = rt.spawn(heartbeat_worker);
  say("heart = spawn(HeartMonitor.loop) = ", heart, " (pings every 50 ms)");
  say("w1 = spawn(NewWorker.loop) = ", w1, "; send(heart, {monitor, w1})");
  me.send(heart, Watch{w1});
  watch_heart(shell, "the report that w1 is alive",
              [&](const HeartChange& c) { return contains(c.alive, w1); });
  me.send(heart, ListAlive{shell.pid()});
  say("send(heart, {list_alive, self()}) -> ", show(expect<Pids>(shell, "the alive list").pids));

  say("send(w1, Pause): w1 starts a long job and stops answering pings");
  me.send(w1, Pause{});
  watch_heart(shell, "the report that w1 is dead",
              [&](const HeartChange& c) { return contains(c.dead, w1); });
  me.send(heart, ListDead{shell.pid()});
  say("send(heart, {list_dead, self()}) -> ", show(expect<Pids>(shell, "the dead list").pids));

  say("send(w1, Resume): w1 answers the pings waiting in its mailbox");
  me.send(w1, Resume{});
  watch_heart(shell, "the report that w1 is alive again",
              [&](const HeartChange& c) { return contains(c.alive, w1); });
  me.send(heart, ListAlive{shell.pid()});
  say("send(heart, {list_alive, self()}) -> ", show(expect<Pids>(shell, "the alive list").pids));

  me.exit(heart, ExitReason::shutdown());  // stop the pings
}

// ---------------------------------------------------------------- 9. the work pool

struct Queue {  // {queue, func, args, sender}
  std::function<int(int)> fn;
  int arg;
  Pid sender;
};
struct Failure {  // {failure, "pool worker died: ..."}
  std::string text;
};

// A job, in a process of its own: the result goes straight to the sender.
void run_job(Context self, std::function<int(int)> fn, int arg, Pid sender) {
  self.send(sender, fn(arg));
}

// The chapter's Workpool.Scheduler: every job runs in a new process that it
// monitors. A job that crashes becomes a Failure for its sender; the
// scheduler itself survives its jobs.
Task<> scheduler(Context self) {
  std::map<Pid, Pid> processing;  // job process -> sender
  for (;;) {
    co_await self.receive(
        [&](Queue& job) {
          Pid pid = self.spawn_monitor(run_job, std::move(job.fn), job.arg, job.sender).first;
          processing[pid] = job.sender;
        },
        [&](Down& down) {
          if (!down.reason.is_normal()) {
            self.send(processing[down.pid],
                      Failure{"pool worker died: " + down.reason.to_string()});
          }
          processing.erase(down.pid);
        });
  }
}

// Workpool.start: starts the scheduler under the name "scheduler".
Status start_workpool(Runtime& rt) { return rt.register_name("scheduler", rt.spawn(scheduler)); }

// Workpool.queue(fun, arg): the result comes back to `caller` as an int.
Status queue(std::function<int(int)> fn, int arg, Context caller) {
  return caller.send("scheduler", Queue{std::move(fn), arg, caller.self()});
}

int fib(int n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }  // terribly slow, on purpose

void work_pool(Runtime& rt) {
  section("9. A work pool");
  Inbox shell(rt);
  Context me = shell.context();

  Status started = start_workpool(rt);
  check(started.ok(), "the scheduler to start");
  Pid sched = rt.whereis("scheduler");
  say("Workpool.start -> ok (scheduler ", sched, ")");

  check(queue([](int x) { return 2 * x * x; }, 4, me).ok(), "the scheduler to take a job");
  say("queue(fn x -> 2 * x * x, 4) -> ", expect<int>(shell, "the result of 2 * 4 * 4"));

  check(queue([](int) -> int { throw std::runtime_error("oops"); }, 0, me).ok(),
        "the scheduler to take a job");
  say("queue(fn _ -> raise \"oops\", 0) -> ", expect<Failure>(shell, "the job's failure").text);
  say("alive?(scheduler) = ", rt.alive(sched));
  check(rt.alive(sched), "the scheduler to survive a failing job");

  check(queue([](int x) { return x * x; }, 7, me).ok(), "the scheduler to take a job");
  say("queue(fn x -> x * x, 7) -> ", expect<int>(shell, "the result of 7 * 7"));

  // FibonacciWorkPool.fib(20..30): one job each, run in parallel.
  for (int n = 20; n <= 30; ++n) check(queue(fib, n, me).ok(), "the scheduler to take a job");
  std::ostringstream results;
  for (int n = 20; n <= 30; ++n) results << ' ' << expect<int>(shell, "a Fibonacci number");
  say("Fibonacci 20..30 through the pool (in the order they finished):", results.str());
}

// ---------------------------------------------------------------- 10. a supervisor

struct Started {
  Pid pid;
};

void supervision(Runtime& rt) {
  section("10. A supervisor (one_for_one)");
  Inbox shell(rt);
  Context me = shell.context();

  // The child spec's start function runs in the supervisor at every
  // (re)start; this one also tells the shell the new pid.
  plexus::ChildSpec squares;
  squares.id = "squares";
  squares.start = [to = shell.pid()](Context sup) {
    Pid pid = sup.spawn_link(square_worker);
    sup.send(to, Started{pid});
    return pid;
  };
  Pid sup =
      plexus::start_supervisor(rt, {.strategy = plexus::RestartStrategy::kOneForOne}, {squares});
  Pid child = expect<Started>(shell, "the child's start").pid;
  say("supervisor ", sup, " started child \"squares\" = ", child);

  me.send(child, Compute{3, shell.pid()});
  say("send(child, {compute, 3, self()}) -> {result, ",
      expect<Computed>(shell, "the square of 3").square, "}");

  Ref ref = me.monitor(child);
  me.send(child, Compute{100000, shell.pid()});
  say("send(child, {compute, 100000, self()}) -> it exited: ",
      expect_down(shell, ref, "the child").reason);

  Pid restarted = expect<Started>(shell, "the child's restart").pid;
  check(restarted != child, "the restarted child to have a new pid");
  say("the supervisor restarted \"squares\": new pid ", restarted);
  me.send(restarted, Compute{5, shell.pid()});
  say("send(new child, {compute, 5, self()}) -> {result, ",
      expect<Computed>(shell, "the square of 5").square, "}");
}

}  // namespace

int main() {
  plexus::RuntimeOptions options;
  options.log_level = plexus::LogLevel::kWarning;
  Runtime rt(options);  // one scheduler thread per core

  try {
    self_send_receive(rt);
    spawn_and_alive(rt);
    links(rt);
    monitors(rt);
    receive_after(rt);
    registered_names(rt);
    kv_session(rt);
    ping_pong_and_heartbeats(rt);
    work_pool(rt);
    supervision(rt);
  } catch (const StepFailed& failure) {
    std::cout << "\nFAILED: " << failure.what << std::endl;
    return 1;
  }
  // Processes still running (the KV store, the pool...) end with the Runtime.
  std::cout << "\nDone." << std::endl;
  return 0;
}

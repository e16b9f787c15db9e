// Process bodies shared by the link, monitor, process and stress tests, with
// the messages they answer to.
#pragma once

#include <optional>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {

struct Stop {};
struct Crash {
  ExitReason reason;
};
struct Ping {
  Pid from;
};
struct Pong {
  Pid from;
};
struct Joined {
  Pid pid;
};

// Answers Ping with Pong{self}; exits with the reason of a Crash; returns on
// Stop. The `extra` patterns are tried along with those, for processes that
// also forward Exits or Downs while serving as a worker.
template <class... Extra>
Task<> serve_as_worker(Context self, Extra... extra) {
  for (;;) {
    std::optional<ExitReason> crash;
    bool stop = false;
    co_await self.receive(
        extra..., [&](const Ping& p) { self.send(p.from, Pong{self.self()}); },
        [&](Crash& c) { crash = c.reason; }, [&](const Stop&) { stop = true; });
    if (crash) self.exit(*crash);
    if (stop) co_return;
  }
}

// A process body that does nothing but serve as a worker (see above).
inline Task<> worker(Context self) { return serve_as_worker(self); }

// True if `pid` answers a ping (it is alive and processing messages).
inline bool answers_ping(Inbox& inbox, Pid pid) {
  inbox.context().send(pid, Ping{inbox.pid()});
  std::optional<Pong> pong = inbox.receive<Pong>(kWait);
  return pong && pong->from == pid;
}

// A chain of `remaining` + 1 processes, each spawn_linking the next: every
// link reports Joined to `to`, then waits until Stop or an exit signal ends
// it.
inline Task<> chain_link(Context self, int remaining, Pid to) {
  self.send(to, Joined{self.self()});
  if (remaining > 0) self.spawn_link(chain_link, remaining - 1, to);
  co_await self.receive<Stop>();
}

}  // namespace plexus_test

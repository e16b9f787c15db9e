// Plexus sessions: user sessions with presence, started by id through a hub,
// and a watcher that learns of a session's loss through the zen monitor.
//
// Three nodes run in this process, each with its runtime, its TCP listener
// on 127.0.0.1, a hub "sessions" and a zen monitor; they talk over real
// sockets as separate programs would. The tour:
//   1. 300 sessions start by id through the hub; the hub spreads them.
//   2. A watcher on the first node follows every session: one zen monitor
//      each (the zen monitor batches them per node), and the hub's hooks for
//      where each session runs now.
//   3. Presence: some users go away; anyone asks any session, on any node.
//   4. The third node is lost as in a crash: its connections are cut, then
//      it stops without leaving the hub.
//   5. The watcher is told of exactly the sessions that ran there (reason
//      `nodedown`, one Down each), and of each one's new pid once the hub has
//      started it again on a node that is left.
// Every step checks what it expects; the program exits with 1, saying what
// was missing, if something does not happen in time.
//
// One file on purpose: the tour is read top to bottom.
#include <chrono>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "plexus/hub/hub.h"
#include "plexus/inbox.h"
#include "plexus/node/node.h"
#include "plexus/zen/zen_monitor.h"
#include "sessions.pb.h"

namespace {

using namespace std::chrono_literals;
using plexus::Call;
using plexus::Context;
using plexus::Inbox;
using plexus::Node;
using plexus::Pid;
using plexus::Ref;
using plexus::Task;
using plexus::hub::Hub;
using Clock = std::chrono::steady_clock;

constexpr int kUsers = 300;
constexpr const char* kCookie = "sessions-example";

template <class... Args>
void say(const Args&... args) {
  std::ostringstream line;
  (line << ... << args);
  std::cout << line.str() << std::endl;
}

[[noreturn]] void fail(const std::string& why) {
  say("FAILED: ", why);
  std::exit(1);
}

// Waits until `done()` holds, or fails with `what` after `timeout`.
template <class Pred>
void wait_until(Pred done, const std::string& what, std::chrono::milliseconds timeout = 10s) {
  const auto deadline = Clock::now() + timeout;
  while (!done()) {
    if (Clock::now() > deadline) fail(what);
    std::this_thread::sleep_for(10ms);  // the condition's polling pace
  }
}

// ---------------------------------------------------------------- the session

// A user's session: its presence, until the user (or a node's loss) ends it.
Task<> session(Context self, plexus_sessions::SessionArgs args) {
  plexus_sessions::Presence presence;
  presence.set_user(args.user());
  presence.set_status("online");
  presence.set_node(Node::of(self)->name());
  for (;;) {
    co_await self.receive(
        [&](Call<plexus_sessions::SetStatus>& c) {
          presence.set_status(c.request.status());
          (void)self.reply(c.from, presence);
        },
        [&](Call<plexus_sessions::PresenceRequest>& c) { (void)self.reply(c.from, presence); });
  }
}

// ---------------------------------------------------------------- the watcher

// What the hub's hooks tell the watcher: session `id` runs as `pid` now.
struct SessionAt {
  std::string id;
  Pid pid;
};
// What the watcher reports, to main()'s inbox.
struct Lost {
  std::string id;
  std::string node;
  bool nodedown = false;  // the reason: its node was lost
  std::string reason;
};
struct Back {
  std::string id;
  std::string node;
};

// Follows each of `ids`: a zen monitor of its session's pid; when one goes,
// it says so (Lost), and follows the new pid the hub names (Back).
Task<> watcher(Context self, const Hub* hub, std::vector<std::string> ids, Pid report_to) {
  Node& node = *Node::of(self);
  std::map<Ref, std::string> watching;  // zen monitor -> session id
  std::set<std::string> lost;           // ids whose session is gone, not yet back
  auto watch = [&](const std::string& id, Pid pid) {
    watching[plexus::zen::monitor(self, pid)] = id;
  };
  for (const std::string& id : ids) watch(id, hub->get_pid(id));
  for (;;) {
    co_await self.receive(
        [&](plexus::zen::Down& down) {
          auto it = watching.find(down.ref);
          if (it == watching.end()) return;
          std::string id = it->second;
          watching.erase(it);
          lost.insert(id);
          (void)self.send(report_to,
                          Lost{id, node.node_name(down.pid), plexus::zen::is_nodedown(down.reason),
                               down.reason.to_string()});
        },
        [&](SessionAt& at) {
          if (!lost.erase(at.id)) return;  // not one it lost (a first start)
          watch(at.id, at.pid);
          (void)self.send(report_to, Back{at.id, node.node_name(at.pid)});
        });
  }
}

// ---------------------------------------------------------------- a node

struct Member {
  std::unique_ptr<Node> node;
  std::unique_ptr<plexus::zen::ZenMonitor> zen;
  std::unique_ptr<Hub> hub;
};

Member start_member(const std::string& base, const std::vector<std::string>& seeds) {
  plexus::NodeOptions options;
  options.name = base + "@127.0.0.1:0";
  options.cookie = kCookie;
  options.seeds = seeds;
  options.runtime.log_level = plexus::LogLevel::kWarning;
  auto node = Node::start(std::move(options));
  if (!node.ok()) fail("node " + base + ": " + node.status().to_string());
  Member m;
  m.node = std::move(*node);
  plexus::Status registered =
      m.node->register_process<plexus_sessions::SessionArgs>("session", session);
  if (!registered.ok()) fail(registered.to_string());
  auto zen = plexus::zen::ZenMonitor::start(*m.node);
  if (!zen.ok()) fail(zen.status().to_string());
  m.zen = std::move(*zen);
  plexus::hub::HubConfig config;
  config.hub_id = "sessions";
  auto hub = Hub::start(*m.node, std::move(config));
  if (!hub.ok()) fail(hub.status().to_string());
  m.hub = std::move(*hub);
  return m;
}

// Sessions by node, "s1 102, s2 97, ...".
std::string spread(const Hub& hub) {
  std::string out;
  for (const auto& [node, count] : hub.children_by_node()) {
    out += (out.empty() ? "" : ", ") + node.substr(0, node.find('@')) + " " + std::to_string(count);
  }
  return out;
}

}  // namespace

int main() {
  // ---- Three nodes, one cluster.
  std::vector<Member> members;
  members.push_back(start_member("s1", {}));
  members.push_back(start_member("s2", {members[0].node->name()}));
  members.push_back(start_member("s3", {members[0].node->name()}));
  wait_until(
      [&] {
        for (Member& m : members) {
          if (m.hub->nodes(true).size() != 3 || m.hub->is_locked()) return false;
        }
        return true;
      },
      "the three hubs did not form one cluster");
  say("three nodes in this process, on TCP on 127.0.0.1: ", members[0].node->name(), ", ",
      members[1].node->name(), ", ", members[2].node->name());
  Hub& hub = *members[0].hub;

  // ---- 1. Sessions by id, through the hub.
  std::vector<plexus::hub::ChildSpec> specs;
  std::vector<std::string> ids;
  for (int i = 0; i < kUsers; ++i) {
    plexus_sessions::SessionArgs args;
    args.set_user("user" + std::to_string(i));
    specs.push_back({.id = args.user(), .type = "session", .init_args = args.SerializeAsString()});
    ids.push_back(args.user());
  }
  plexus::hub::StartOptions awaited;
  awaited.awaitable = true;
  auto started = hub.start_children(std::move(specs), awaited);
  if (!started.ok()) fail(started.status().to_string());
  auto result = started->await(10s);
  if (!result.ok() || !result->ok()) fail("the sessions did not all start");
  wait_until([&] { return members[2].hub->child_count() == kUsers; },
             "the third node's registry does not list every session");
  say(kUsers, " sessions started through the hub: ", spread(hub));

  // ---- 2. A watcher on s1 follows them all.
  Inbox shell(members[0].node->runtime());
  Pid watcher_pid = members[0].node->runtime().spawn(watcher, &hub, ids, shell.pid());
  // Where each session runs now, from s1's registry: a restart, or a
  // start after its node was lost.
  auto tell = [&](const std::string& id, Pid pid) {
    (void)members[0].node->runtime().send(watcher_pid, SessionAt{id, pid});
  };
  // A restart is a PidUpdate; a child its node's loss ended and that starts
  // again elsewhere may come as a new registration.
  auto on_change = [&](plexus::hub::HookEvent, const plexus::hub::HookData& data) {
    if (const auto* update = std::get_if<plexus::hub::PidUpdate>(&data)) {
      if (!update->after.empty()) tell(update->id, update->after[0].pid);
    } else if (const auto* change = std::get_if<plexus::hub::ChildChange>(&data)) {
      if (!change->nodes.empty()) tell(change->id, change->nodes[0].pid);
    }
  };
  for (plexus::hub::HookEvent event :
       {plexus::hub::HookEvent::kChildPidUpdated, plexus::hub::HookEvent::kChildRegistered}) {
    plexus::Status hooked = hub.register_hook(event, "watcher", 0, on_change);
    if (!hooked.ok()) fail(hooked.to_string());
  }
  say("a watcher on s1 follows all ", kUsers,
      " through the zen monitor (one monitor each, batched per node) and the hub's hooks");

  // ---- 3. Presence, from any node. Setting it is a call: a message from s1
  // and a later one from s2 may reach a session in either order (Erlang
  // orders messages per pair of processes only), so s2 asks once s1 knows
  // the status is set.
  for (int i = 0; i < kUsers; i += 10) {
    plexus_sessions::SetStatus away;
    away.set_status("away: lunch");
    auto set = shell.call<plexus_sessions::Presence>(hub.get_pid(ids[i]), away);
    if (!set.ok()) fail("cannot set " + ids[i] + "'s status: " + set.status().to_string());
  }
  {
    Inbox asker(members[1].node->runtime());  // a process on s2
    for (const std::string& id : {ids[0], ids[1]}) {
      auto presence = asker.call<plexus_sessions::Presence>(members[1].hub->get_pid(id),
                                                            plexus_sessions::PresenceRequest{});
      if (!presence.ok()) fail("no presence of " + id + ": " + presence.status().to_string());
      say("presence of ", id, " (asked from s2): ", presence->status(), " on ", presence->node());
    }
  }

  // ---- 4. s3 is lost, as in a crash.
  std::set<std::string> on_s3;
  for (const auto& child : hub.process_list()) {
    if (!child.nodes.empty() && child.nodes[0].node == members[2].node->name())
      on_s3.insert(child.id);
  }
  say("losing s3 (", on_s3.size(),
      " sessions): its connections are cut, then it stops without leaving the hub");
  const auto lost_at = Clock::now();
  members[2].node->block({members[0].node->name(), members[1].node->name()});
  members[2].hub.reset();
  members[2].zen.reset();
  members[2].node.reset();
  members.pop_back();

  // ---- 5. The watcher hears of each of them, once, and of where it is back.
  std::set<std::string> lost, back;
  std::map<std::string, size_t> back_by_node;
  std::optional<std::chrono::milliseconds> all_lost_after, all_back_after;
  auto since_loss = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - lost_at);
  };
  while (back.size() < on_s3.size()) {
    bool got = shell.receive(
        [&](Lost& l) {
          if (!on_s3.count(l.id)) fail(l.id + " was reported lost, but it did not run on s3");
          if (!l.nodedown) fail(l.id + " was lost with " + l.reason + ", not nodedown");
          if (!lost.insert(l.id).second) fail(l.id + " was reported lost twice");
          if (lost.size() == on_s3.size()) all_lost_after = since_loss();
        },
        [&](Back& b) {
          if (b.node.empty() || b.node.starts_with("s3@")) fail(b.id + " came back on " + b.node);
          back.insert(b.id);
          ++back_by_node[b.node.substr(0, b.node.find('@'))];
          if (back.size() == on_s3.size()) all_back_after = since_loss();
        },
        plexus::after(10s, [] {}));
    if (!got) {
      fail("after 10 s, " + std::to_string(lost.size()) + " of " + std::to_string(on_s3.size()) +
           " sessions reported lost and " + std::to_string(back.size()) + " back");
    }
  }
  say("the watcher was told of all ", lost.size(), " sessions of s3 (nodedown, once each) within ",
      all_lost_after ? all_lost_after->count() : -1, " ms of the loss");
  std::string where;
  for (const auto& [node, count] : back_by_node) {
    where += (where.empty() ? "" : ", ") + node + " " + std::to_string(count);
  }
  say("and of each one's new pid within ", all_back_after->count(), " ms: restarted on ", where);
  wait_until([&] { return hub.child_count() == kUsers; }, "the registry lost sessions");
  say("every session runs again: ", spread(hub));
  // A session that came back is a new one: online, on its new node.
  std::string moved = *on_s3.begin();
  auto presence =
      shell.call<plexus_sessions::Presence>(hub.get_pid(moved), plexus_sessions::PresenceRequest{});
  if (!presence.ok()) fail("no presence of " + moved);
  say("presence of ", moved, " now: ", presence->status(), " on ", presence->node());
  hub.cancel_hook(plexus::hub::HookEvent::kChildPidUpdated, "watcher");
  hub.cancel_hook(plexus::hub::HookEvent::kChildRegistered, "watcher");
  return 0;
}

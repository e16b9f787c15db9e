#include "gateway.h"

#include <cctype>
#include <charconv>
#include <optional>

#include "chat.pb.h"
#include "plexus/hub/hub.h"
#include "plexus/node/node.h"
#include "session.h"

namespace plexus_chat {

namespace {

using plexus::Context;
using plexus::Down;
using plexus::Node;
using plexus::Pid;
using plexus::Ref;
using plexus::Result;
using plexus::Status;
using plexus::StatusCode;
using plexus::Task;
using plexus::hub::ChildSpec;
using plexus::hub::Hub;

// How long a command keeps trying (a room catching up, a copy that moves).
constexpr std::chrono::milliseconds kCommandTimeout{5000};
// How long it waits between two tries.
constexpr std::chrono::milliseconds kRetryPause{50};

// Names of users and rooms: 1 to 32 of [A-Za-z0-9_.-].
bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 32) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') {
      return false;
    }
  }
  return true;
}

// The app-level error of a room's or session's answer ("" if none).
const std::string& error_of(const PostReply& r) { return r.error(); }
const std::string& error_of(const Joined& r) { return r.error(); }
const std::string& error_of(const History& r) { return r.error(); }
const std::string& error_of(const Attached&) {
  static const std::string kNone;
  return kNone;
}

// How a room's message is shown: "ROOM INDEX USER: TEXT".
std::string entry_line(const std::string& room, const Entry& e) {
  return room + " " + std::to_string(e.index()) + " " + e.user() + ": " + e.text();
}

// Closes the connection when the gateway ends, however it ends.
struct CloseOnExit {
  std::shared_ptr<Connection> connection;
  ~CloseOnExit() { connection->close(); }
};

class Gateway {
 public:
  Gateway(Context self, std::shared_ptr<Connection> connection, ChatHubs::Hubs hubs)
      : self_(self),
        node_(*Node::of(self)),
        connection_(std::move(connection)),
        rooms_(*hubs.rooms),
        sessions_(*hubs.sessions),
        origin_(node_.name() + "/" + self.self().to_string()) {}

  Task<> run();

 private:
  void say(std::string line) { connection_->write(std::move(line)); }
  Task<> on_line(const std::string& line);
  Task<> nick(const std::string& name);
  Task<> join(const std::string& room);
  void leave();
  Task<> post(const std::string& text);
  Task<> history(const std::string& count);
  Task<> who();
  Task<> whois(const std::string& name);
  void where(const std::string& room);
  // After the room's copy or the session went: join or attach again.
  Task<> rejoin();
  Task<> reattach();

  // Starts child `spec` unless the hub has it: OK if it runs now.
  Task<Status> ensure(Hub& hub, ChildSpec spec);
  // Calls child `id`'s active copy until it answers without an error (or
  // kCommandTimeout passes): its answer, or the last error.
  template <class R, class Req>
  Task<Result<R>> call_until_done(const Hub& hub, const std::string& id, Req request);
  // Watches the copy that answered a join or an attach.
  void watch(Ref& monitor, Pid pid) {
    if (monitor) self_.demonitor(monitor, plexus::Flush::kYes);
    monitor = pid ? self_.monitor(pid) : Ref();
  }
  // Watches the room's copy that took `joined`: its node's name.
  std::string watch_copy(const Joined& joined) {
    Result<Pid> copy = node_.from_proto(joined.copy());
    watch(room_monitor_, copy.ok() ? *copy : Pid());
    return copy.ok() ? node_.node_name(*copy) : "?";
  }
  // True if the user is in a room; else says what to do first.
  bool in_room() {
    if (!room_.empty()) return true;
    say(user_.empty() ? "! take a name first: /nick NAME" : "! join a room first: /join ROOM");
    return false;
  }
  Join join_request() const;
  Attach attach_request() const;

  Context self_;
  Node& node_;
  std::shared_ptr<Connection> connection_;
  Hub& rooms_;
  Hub& sessions_;
  // What makes this gateway's posts unique in a room's log (with seq_).
  const std::string origin_;
  uint64_t seq_ = 0;
  std::string user_, room_;
  Ref room_monitor_, session_monitor_;
  bool quit_ = false;
};

Task<> Gateway::run() {
  say("* welcome to plexus chat on " + node_.name() + "; /help lists the commands");
  while (!quit_) {
    std::optional<std::string> line;
    std::optional<Down> down;
    bool closed = false, moved = false;
    co_await self_.receive(
        [&](LineIn& in) { line = std::move(in.text); }, [&](Closed&) { closed = true; },
        [&](Delivery& d) {
          if (d.room() == room_) say(entry_line(room_, d.entry()));
        },
        [&](RoomMoved& m) { moved = m.room() == room_; }, [&](Down& d) { down = std::move(d); });
    if (closed) co_return;
    if (line) {
      co_await on_line(*line);
      connection_->line_done();
    }
    if (moved || (down && down->ref == room_monitor_)) co_await rejoin();
    if (down && down->ref == session_monitor_) co_await reattach();
  }
}

Task<> Gateway::on_line(const std::string& line) {
  if (line.empty()) co_return;
  if (line[0] != '/') {
    co_await post(line);
    co_return;
  }
  size_t space = std::min(line.find(' '), line.size());
  std::string command = line.substr(0, space);
  size_t arg_start = std::min(line.find_first_not_of(' ', space), line.size());
  std::string arg = line.substr(arg_start);
  if (command == "/nick") {
    co_await nick(arg);
  } else if (command == "/join") {
    co_await join(arg);
  } else if (command == "/leave") {
    leave();
  } else if (command == "/history") {
    co_await history(arg);
  } else if (command == "/who") {
    co_await who();
  } else if (command == "/whois") {
    co_await whois(arg);
  } else if (command == "/where") {
    where(arg.empty() ? room_ : arg);
  } else if (command == "/quit") {
    say("* bye");
    quit_ = true;
  } else if (command == "/help") {
    say("* /nick NAME, /join ROOM, /leave, /history [N], /who, /whois NAME, /where [ROOM], "
        "/quit; any other line is a message to the room");
  } else {
    say("! unknown command " + command + "; /help lists them");
  }
}

Task<Status> Gateway::ensure(Hub& hub, ChildSpec spec) {
  if (hub.active_pid(spec.id)) co_return Status::OK();
  plexus::hub::StartOptions options;
  options.awaitable = true;
  options.timeout = kCommandTimeout;
  auto started = hub.start_child(std::move(spec), options);
  if (!started.ok()) {
    co_return started.status().code() == StatusCode::kAlreadyExists ? Status::OK()
                                                                    : started.status();
  }
  // The start's own timeout, and as long again for its answer to come.
  auto result = co_await started->await(self_, 2 * kCommandTimeout);
  if (!result.ok()) co_return result.status();
  for (const plexus::hub::ChildError& error : result->errors) {
    if (error.reason != "already_started") {
      co_return Status(StatusCode::kUnavailable, error.reason + " on " + error.node);
    }
  }
  co_return Status::OK();
}

template <class R, class Req>
Task<Result<R>> Gateway::call_until_done(const Hub& hub, const std::string& id, Req request) {
  const int64_t deadline = self_.runtime().now_ms() + kCommandTimeout.count();
  Status last = Status(StatusCode::kTimeout, "no answer");
  for (;;) {
    int64_t left = deadline - self_.runtime().now_ms();
    if (left <= 0) co_return last;
    Result<R> answer = co_await hub.call<R>(self_, id, request, std::chrono::milliseconds(left));
    if (answer.ok() && error_of(*answer).empty()) co_return answer;
    last = answer.ok() ? Status(StatusCode::kUnavailable, error_of(*answer)) : answer.status();
    co_await self_.receive(plexus::after(kRetryPause, [] {}));
  }
}

Join Gateway::join_request() const {
  Join join;
  join.set_user(user_);
  node_.to_proto(self_.self(), join.mutable_gateway());
  return join;
}

Attach Gateway::attach_request() const {
  Attach attach;
  node_.to_proto(self_.self(), attach.mutable_gateway());
  attach.set_node(node_.name());
  return attach;
}

Task<> Gateway::nick(const std::string& name) {
  if (!valid_name(name)) {
    say("! a name is 1 to 32 letters, digits, '_', '.' or '-'");
    co_return;
  }
  if (!user_.empty()) {
    say(user_ == name ? "* you are " + name
                      : "! you are " + user_ + " (a new connection may take another name)");
    co_return;
  }
  SessionArgs args;
  args.set_user(name);
  ChildSpec spec{.id = name, .type = "chat_session", .init_args = args.SerializeAsString()};
  spec.restart = plexus::Restart::kTransient;
  if (Status started = co_await ensure(sessions_, std::move(spec)); !started.ok()) {
    say("! cannot start your session: " + started.message());
    co_return;
  }
  Result<Attached> attached = co_await call_until_done<Attached>(sessions_, name, attach_request());
  if (!attached.ok()) {
    say("! your session does not answer: " + attached.status().message());
  } else if (!attached->error().empty()) {
    say("! " + attached->error());
  } else {
    user_ = name;
    watch(session_monitor_, sessions_.active_pid(name));
    say("* you are " + name);
  }
}

Task<> Gateway::reattach() {
  session_monitor_ = Ref();
  Result<Attached> attached =
      co_await call_until_done<Attached>(sessions_, user_, attach_request());
  if (!attached.ok() || !attached->error().empty()) {
    say("! lost your session: " +
        (attached.ok() ? attached->error() : attached.status().message()));
    co_return;
  }
  watch(session_monitor_, sessions_.active_pid(user_));
  say("* your session moved to " + node_.node_name(sessions_.active_pid(user_)));
}

Task<> Gateway::join(const std::string& room) {
  if (user_.empty()) {
    say("! take a name first: /nick NAME");
    co_return;
  }
  if (!valid_name(room)) {
    say("! a room's name is 1 to 32 letters, digits, '_', '.' or '-'");
    co_return;
  }
  if (room == room_) {
    say("* you are in " + room + " already");
    co_return;
  }
  leave();
  RoomArgs args;
  args.set_room(room);
  ChildSpec spec{.id = room, .type = "chat_room", .init_args = args.SerializeAsString()};
  if (Status started = co_await ensure(rooms_, std::move(spec)); !started.ok()) {
    say("! cannot start room " + room + ": " + started.message());
    co_return;
  }
  Result<Joined> joined = co_await call_until_done<Joined>(rooms_, room, join_request());
  if (!joined.ok()) {
    say("! cannot join " + room + ": " + joined.status().message());
    co_return;
  }
  room_ = room;
  std::string copy_node = watch_copy(*joined);
  InRoom in;
  in.set_room(room_);
  (void)sessions_.send(self_, user_, in);
  say("* joined " + room + " (" + std::to_string(joined->size()) + " messages, " +
      std::to_string(joined->members_size()) + " here); its active copy is on " + copy_node);
}

Task<> Gateway::rejoin() {
  room_monitor_ = Ref();
  if (room_.empty()) co_return;
  Result<Joined> joined = co_await call_until_done<Joined>(rooms_, room_, join_request());
  if (!joined.ok()) {
    say("! lost room " + room_ + ": " + joined.status().message());
    room_.clear();
    co_return;
  }
  say("* " + room_ + " moved; its active copy is on " + watch_copy(*joined));
}

void Gateway::leave() {
  if (room_.empty()) return;
  Leave leave;
  node_.to_proto(self_.self(), leave.mutable_gateway());
  (void)rooms_.send(self_, room_, leave);
  watch(room_monitor_, Pid());
  say("* left " + room_);
  room_.clear();
  (void)sessions_.send(self_, user_, InRoom{});
}

Task<> Gateway::post(const std::string& text) {
  if (!in_room()) co_return;
  Post post;
  post.set_user(user_);
  post.set_text(text);
  post.set_origin(origin_);
  post.set_seq(++seq_);
  Result<PostReply> reply = co_await call_until_done<PostReply>(rooms_, room_, std::move(post));
  if (reply.ok()) {
    say("ok " + room_ + " " + std::to_string(reply->index()));
  } else {
    say("! not sent: " + reply.status().message());
  }
}

Task<> Gateway::history(const std::string& count) {
  uint64_t last = 20;
  if (!count.empty()) {
    auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), last);
    if (ec != std::errc() || end != count.data() + count.size()) {
      say("! /history takes a number");
      co_return;
    }
  }
  if (!in_room()) co_return;
  HistoryRequest request;
  request.set_last(last);
  Result<History> history = co_await call_until_done<History>(rooms_, room_, request);
  if (!history.ok()) {
    say("! no history: " + history.status().message());
    co_return;
  }
  say("history " + room_ + " " + std::to_string(history->entries_size()));
  for (const Entry& e : history->entries()) say(entry_line(room_, e));
  say("end");
}

Task<> Gateway::who() {
  if (!in_room()) co_return;
  // A join of a member changes nothing and lists the members.
  Result<Joined> joined = co_await call_until_done<Joined>(rooms_, room_, join_request());
  if (!joined.ok()) {
    say("! " + joined.status().message());
    co_return;
  }
  std::string names;
  for (const std::string& name : joined->members()) names += (names.empty() ? "" : ", ") + name;
  say("* in " + room_ + ": " + names);
}

Task<> Gateway::whois(const std::string& name) {
  if (!sessions_.active_pid(name)) {
    say("* nobody is called " + name);
    co_return;
  }
  Result<Presence> presence =
      co_await sessions_.call<Presence>(self_, name, PresenceRequest{}, kCommandTimeout);
  if (!presence.ok()) {
    say("! " + name + "'s session does not answer: " + presence.status().message());
    co_return;
  }
  // A wall-clock time: the session's node has a runtime clock of its own.
  int64_t seconds = (unix_ms() - presence->since_unix_ms()) / 1000;
  say("* " + name +
      (presence->online() ? " is online on " + presence->node() +
                                (presence->room().empty() ? "" : " in " + presence->room())
                          : " is offline") +
      " for " + std::to_string(seconds) + " s (session on " + presence->session_node() + ")");
}

void Gateway::where(const std::string& room) {
  std::optional<plexus::hub::ChildInfo> info =
      room.empty() ? std::nullopt : rooms_.child_lookup(room);
  if (!info) {
    say(room.empty() ? "! /where ROOM" : "* no room " + room);
    return;
  }
  Pid active = rooms_.active_pid(room);
  std::string line = "* " + room + ": active on " + (active ? node_.node_name(active) : "none");
  for (const plexus::hub::NodePid& copy : info->nodes) {
    if (copy.pid != active) line += ", copy on " + copy.node;
  }
  say(line);
}

}  // namespace

Task<> gateway(Context self, std::shared_ptr<Connection> connection, ChatHubs* hubs) {
  CloseOnExit close{connection};
  ChatHubs::Hubs found = co_await hubs->wait(self);
  Gateway gateway(self, std::move(connection), found);
  co_await gateway.run();
}

}  // namespace plexus_chat

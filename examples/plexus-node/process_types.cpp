#include "process_types.h"

#include <optional>
#include <stdexcept>
#include <utility>

#include "node_control.pb.h"
#include "plexus/hub/handover.h"
#include "plexus/hub/saved_state.h"
#include "reason.h"

namespace plexus_node {

namespace {

using plexus::Context;
using plexus::Down;
using plexus::Exit;
using plexus::ExitReason;
using plexus::Node;
using plexus::Pid;
using plexus::Result;
using plexus::Task;

// Ends the calling process as `command` says.
[[noreturn]] void obey(Context self, const ExitCommand& command) {
  switch (command.how()) {
    case ExitCommand::ERROR:
      self.exit(ExitReason::error(command.text()));
    case ExitCommand::THROW:
      throw std::runtime_error(command.text());
    default:
      self.exit(ExitReason::normal());
  }
}

// A pid from a message, or the end of the process if it is not one.
Pid pid_from(Context self, const plexus::PidProto& proto, const char* what) {
  Result<Pid> pid = Node::of(self)->from_proto(proto);
  if (!pid.ok() || !pid->valid()) {
    self.exit(ExitReason::error(std::string("bad ") + what + ": " + pid.status().to_string()));
  }
  return *pid;
}

plexus::PidProto proto_of(Context self, Pid pid) {
  plexus::PidProto proto;
  Node::of(self)->to_proto(pid, &proto);
  return proto;
}

Task<> echo(Context self, EchoArgs) {
  for (;;) {
    std::optional<Echo> echo;
    std::optional<ExitCommand> command;
    co_await self.receive([&](Echo& e) { echo = std::move(e); },
                          [&](ExitCommand& c) { command = std::move(c); });
    if (command) obey(self, *command);
    Result<Pid> to = Node::of(self)->from_proto(echo->reply_to());
    if (!to.ok()) {
      self.runtime().log(plexus::LogLevel::kWarning,
                         "echo: bad reply_to: " + to.status().to_string());
      continue;
    }
    EchoReply reply;
    reply.set_payload(std::move(*echo->mutable_payload()));
    *reply.mutable_from() = proto_of(self, self.self());
    (void)self.send(*to, std::move(reply));
  }
}

Task<> exiter(Context self, ExiterArgs) {
  ExitCommand command = co_await self.receive<ExitCommand>();
  obey(self, command);
}

Watching watching(Context self) {
  Watching w;
  *w.mutable_watcher() = proto_of(self, self.self());
  return w;
}

Task<> linker(Context self, WatchArgs args) {
  Pid target = pid_from(self, args.target(), "target");
  Pid reply_to = pid_from(self, args.reply_to(), "reply_to");
  self.trap_exit(args.trap_exit());
  // Only a local target that is gone already fails here: a remote one answers
  // with an exit signal `noproc`.
  if (!self.link(target).ok()) self.exit(ExitReason::noproc());
  (void)self.send(reply_to, watching(self));
  for (;;) {
    std::optional<Exit> exit;
    std::optional<ExitCommand> command;
    co_await self.receive([&](Exit& e) { exit = std::move(e); },
                          [&](ExitCommand& c) { command = std::move(c); });
    if (command) obey(self, *command);
    ExitReport report;
    *report.mutable_watcher() = proto_of(self, self.self());
    *report.mutable_from() = proto_of(self, exit->from);
    *report.mutable_reason() = to_message(exit->reason);
    (void)self.send(reply_to, std::move(report));
  }
}

Task<> monitorer(Context self, WatchArgs args) {
  Pid target = pid_from(self, args.target(), "target");
  Pid reply_to = pid_from(self, args.reply_to(), "reply_to");
  self.monitor(target);
  (void)self.send(reply_to, watching(self));
  for (;;) {
    std::optional<Down> down;
    std::optional<ExitCommand> command;
    co_await self.receive([&](Down& d) { down = std::move(d); },
                          [&](ExitCommand& c) { command = std::move(c); });
    if (command) obey(self, *command);
    DownReport report;
    *report.mutable_watcher() = proto_of(self, self.self());
    *report.mutable_pid() = proto_of(self, down->pid);
    *report.mutable_reason() = to_message(down->reason);
    (void)self.send(reply_to, std::move(report));
  }
}

// The hub's demo worker: one integer, read with "get", raised with "incr".
// In a hot-swap hub its integer is its state: a moving counter hands it to
// its new copy (plexus/hub/handover.h). In a durable hub it saves it before
// it answers an incr (plexus/hub/saved_state.h), so that a restart of every
// node brings it back with every acknowledged incr. In any other, no
// ChildStart comes.
Task<> counter(Context self, CounterArgs args) {
  int64_t value = args.start();
  std::optional<plexus::hub::ChildStart> me;
  bool saves = true;  // until its hub says it keeps no store
  for (;;) {
    std::optional<CounterCall> got;
    std::optional<plexus::hub::ChildStart> start;
    std::optional<plexus::hub::HandoverRequest> handover;
    co_await self.receive([&](CounterCall& c) { got = std::move(c); },
                          [&](plexus::hub::ChildStart& s) { start = std::move(s); },
                          [&](plexus::hub::HandoverRequest& r) { handover = std::move(r); });
    if (start && start->migration_target) {
      plexus::hub::Handover h = co_await self.receive<plexus::hub::Handover>();
      if (h.state) value = std::stoll(*h.state);
    }
    if (start) me = std::move(start);
    if (handover) {
      if (co_await plexus::hub::hand_over(self, std::move(*handover), std::to_string(value))) {
        co_return;
      }
    }
    if (!got) continue;
    CounterCall& call = *got;
    CounterValue answer;
    if (call.op() == "incr") {
      answer.set_value(++value);
      if (me && saves) {
        plexus::Status saved =
            co_await plexus::hub::save_state(self, me->hub_id, me->child_id, std::to_string(value));
        if (saved.code() == plexus::StatusCode::kInvalidArgument) {
          saves = false;
        } else if (!saved.ok()) {
          answer.set_error("raised, not saved: " + saved.to_string());
        }
      }
    } else if (call.op() == "get") {
      answer.set_value(value);
    } else {
      answer.set_value(value);
      answer.set_error("unknown op '" + call.op() + "': counter answers get and incr");
    }
    Result<Pid> to = Node::of(self)->from_proto(call.reply_to());
    if (to.ok()) (void)self.send(*to, std::move(answer));
  }
}

}  // namespace

plexus::Status register_process_types(Node& node) {
  for (plexus::Status status : {node.register_process<EchoArgs>("echo", echo),
                                node.register_process<CounterArgs>("counter", counter),
                                node.register_process<ExiterArgs>("exiter", exiter),
                                node.register_process<WatchArgs>("linker", linker),
                                node.register_process<WatchArgs>("monitorer", monitorer)}) {
    if (!status.ok()) return status;
  }
  return plexus::Status::OK();
}

}  // namespace plexus_node

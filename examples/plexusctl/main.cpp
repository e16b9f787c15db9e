// plexusctl: drives a plexus-node from the command line, as a hidden node
// (it connects to the daemon it is given and to no one else, and is never a
// member). It sends one command to the daemon's "control" process and prints
// the answer (node_control.proto). Usage: ctl_flags.cpp.
//
// Exit codes: 0 done; 1 failed or not found, with a one-line reason on
// stderr; 2 usage.
#include <unistd.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "ctl_flags.h"
#include "node_control.pb.h"
#include "plexus/inbox.h"
#include "plexus/node/node.h"
#include "plexus/version.h"
#include "text_output.h"

namespace {

constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

int fail(const std::string& why) {
  std::cerr << "plexusctl: " << why << "\n";
  return kExitFailed;
}

// The request for `c`, answered to `reply_to`.
template <class M>
M with_reply_to(M m, const plexus::PidProto& reply_to) {
  *m.mutable_reply_to() = reply_to;
  return m;
}

plexus_node::HubCommand hub_command(const plexusctl::Command& c) {
  using plexus_node::HubCommand;
  HubCommand h;
  h.set_hub(c.hub);
  h.set_type(c.type);
  h.mutable_metadata()->insert(c.meta.begin(), c.meta.end());
  h.set_local(c.local);
  // The daemon's own deadline comes before ours, so its answer arrives.
  h.set_timeout_ms(static_cast<uint64_t>(std::max<int64_t>(c.timeout.count() - 1000, 1)));
  if (c.action == "status") h.set_op(HubCommand::STATUS);
  if (c.action == "start") h.set_op(HubCommand::START);
  if (c.action == "start-many") {
    h.set_op(HubCommand::START_MANY);
    h.set_count(std::stoull(c.words[1]));
  }
  if (c.action == "stop") h.set_op(HubCommand::STOP);
  if (c.action == "drain") h.set_op(HubCommand::DRAIN);
  if (c.action == "resize") {
    h.set_op(HubCommand::RESIZE);
    h.set_count(std::stoull(c.words[0]));
    return h;
  }
  if (c.action == "lookup") h.set_op(HubCommand::LOOKUP);
  if (c.action == "list") h.set_op(HubCommand::LIST);
  if (c.action == "call") {
    h.set_op(HubCommand::CALL);
    h.set_message(c.words[1]);
  }
  if (!c.words.empty()) h.set_id(c.words[0]);
  return h;
}

}  // namespace

int main(int argc, char** argv) {
  plexus::Result<plexusctl::Command> c =
      plexusctl::parse(argc, argv, [](const char* name) { return std::getenv(name); });
  if (!c.ok()) {
    std::cerr << "plexusctl: " << c.status().message() << "\nTry 'plexusctl --help'.\n";
    return kExitUsage;
  }
  if (c->help) {
    std::cout << plexusctl::usage();
    return 0;
  }
  if (c->version) {
    std::cout << "plexusctl " << PLEXUS_VERSION_STRING << "\n";
    return 0;
  }
  std::signal(SIGPIPE, SIG_IGN);

  plexus::NodeOptions options;
  options.name = "plexusctl-" + std::to_string(getpid()) + "@127.0.0.1:0";
  options.cookie = c->cookie;
  options.hidden = true;
  options.connect_timeout = std::min(c->timeout, std::chrono::milliseconds(5000));
  if (!c->tls_ca.empty()) options.tls = plexus::TlsOptions{c->tls_ca, c->tls_cert, c->tls_key};
  options.runtime.schedulers = 1;
  options.runtime.log_level = plexus::LogLevel::kNone;
  auto node = plexus::Node::start(std::move(options));
  if (!node.ok()) return fail("cannot start: " + node.status().message());
  if (plexus::Status up = (*node)->connect(c->node); !up.ok()) {
    return fail("cannot reach " + c->node + ": " + up.message() +
                " (is it running, and is the cookie right?)");
  }

  plexus::Inbox inbox((*node)->runtime());
  plexus::PidProto reply_to;
  (*node)->to_proto(inbox.pid(), &reply_to);
  plexus::Status sent;
  if (c->verb == "nodes") {
    sent =
        (*node)->send(c->node, "control", with_reply_to(plexus_node::MembersRequest(), reply_to));
  } else if (c->verb == "info" || c->verb == "metrics" || c->verb == "process" ||
             c->verb == "top") {
    plexus_node::NodeCommand command;
    command.set_op(c->verb == "info"      ? plexus_node::NodeCommand::INFO
                   : c->verb == "metrics" ? plexus_node::NodeCommand::METRICS
                   : c->verb == "top"     ? plexus_node::NodeCommand::TOP
                                          : plexus_node::NodeCommand::PROCESS);
    if (c->verb == "process") command.set_pid(c->words[0]);
    if (c->verb == "top") {
      command.set_top_by_handled(c->top_by_handled);
      command.set_top_count(c->top_count);
      command.set_top_interval_ms(static_cast<uint32_t>(c->top_interval.count()));
    }
    sent = (*node)->send(c->node, "control", with_reply_to(std::move(command), reply_to));
  } else if (c->verb == "hub") {
    sent = (*node)->send(c->node, "control", with_reply_to(hub_command(*c), reply_to));
  } else {
    plexus_node::NetCommand net;
    net.set_block(c->action == "block");
    for (const std::string& p : c->words) net.add_peers(p);
    sent = (*node)->send(c->node, "control", with_reply_to(std::move(net), reply_to));
  }
  if (!sent.ok()) return fail("cannot send to " + c->node + ": " + sent.message());
  std::optional<plexus_node::CtlAnswer> answer = inbox.receive<plexus_node::CtlAnswer>(c->timeout);
  if (!answer) {
    return fail(c->node + " did not answer within " + std::to_string(c->timeout.count()) +
                " ms (a node without hubs, or lost on the way)");
  }
  for (const std::string& line : answer->lines()) {
    // metrics is Prometheus text, printed as it is.
    bool as_is = c->json || c->verb == "metrics";
    std::cout << (as_is ? line : plexusctl::TextOutput::render(line)) << "\n";
  }
  std::cout.flush();
  if (!answer->ok()) return fail(answer->error());
  return 0;
}

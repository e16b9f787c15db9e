// The answers plexusctl gets from the control process (CtlAnswer of
// node_control.proto): how they are made and sent back.
#pragma once

#include <string>

#include "node_control.pb.h"
#include "plexus/node/node.h"

namespace plexus_node {

inline CtlAnswer failure(std::string why) {
  CtlAnswer a;
  a.set_ok(false);
  a.set_error(std::move(why));
  return a;
}

// An answer of one line (a JSON object); with ok false, `error` goes to
// plexusctl's stderr after the line.
inline CtlAnswer one_line(std::string line, bool ok = true, std::string error = "") {
  CtlAnswer a;
  a.set_ok(ok);
  a.set_error(std::move(error));
  a.add_lines(std::move(line));
  return a;
}

// Sends `answer` to the command's reply_to; nothing if it does not name a
// process (plexusctl has gone, or sent garbage).
inline void send_answer(plexus::Node& node, const plexus::PidProto& reply_to, CtlAnswer answer) {
  plexus::Result<plexus::Pid> to = node.from_proto(reply_to);
  if (to.ok() && *to) (void)node.runtime().send(*to, std::move(answer));
}

// A pid as the node that runs it prints it: "<0.index.serial>".
inline std::string pid_text(plexus::Pid pid) {
  return "<0." + std::to_string(pid.index) + "." + std::to_string(pid.serial) + ">";
}

}  // namespace plexus_node

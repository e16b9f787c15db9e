// Inbound: messages and signals from a peer, into this node's runtime.
#pragma once

#include <string>

#include "connection.h"
#include "plexus/runtime.h"
#include "wire_ids.h"

namespace plexus::detail {

// Decodes Send and Signal frames of up connections and delivers them. On
// the loop only. A false return closes the connection (the reason in *error):
// the peer broke the protocol. What is merely undeliverable is dropped.
class Inbound {
 public:
  Inbound(Runtime& runtime, WireIds& ids) : runtime_(runtime), ids_(ids) {}

  bool on_send(Connection& conn, const wire::Send& send, std::string* error);
  bool on_signal(Connection& conn, const wire::Signal& signal, std::string* error);

 private:
  Runtime& runtime_;
  WireIds& ids_;
};

}  // namespace plexus::detail

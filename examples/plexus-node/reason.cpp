#include "reason.h"

#include "plexus/node/exit_reason_proto.h"

namespace plexus_node {

Reason to_message(const plexus::ExitReason& reason) {
  Reason out;
  plexus::to_proto(reason, out.mutable_exact());
  out.set_text(reason.to_string());
  return out;
}

plexus::ExitReason from_message(const Reason& reason) { return plexus::from_proto(reason.exact()); }

}  // namespace plexus_node

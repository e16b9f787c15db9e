// The answer to a ProcessInfo request (EnvelopeKind::kProcessInfo).
#pragma once

#include <optional>

#include "plexus/pid.h"
#include "plexus/process_info.h"

namespace plexus::detail {

// Sent by the process asked, or for it when it is not alive (no info).
struct ProcessInfoReply {
  Ref ref;
  std::optional<ProcessInfo> info;
};

}  // namespace plexus::detail

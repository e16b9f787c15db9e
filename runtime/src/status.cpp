#include "plexus/status.h"

namespace plexus {

const char* status_code_name(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return "ok";
    case StatusCode::kNoProc:
      return "noproc";
    case StatusCode::kTimeout:
      return "timeout";
    case StatusCode::kNotFound:
      return "not_found";
    case StatusCode::kAlreadyExists:
      return "already_exists";
    case StatusCode::kInvalidArgument:
      return "invalid_argument";
    case StatusCode::kExited:
      return "exited";
    case StatusCode::kBadType:
      return "bad_type";
    case StatusCode::kResourceExhausted:
      return "resource_exhausted";
    case StatusCode::kShutdown:
      return "shutdown";
    case StatusCode::kIgnored:
      return "ignored";
    case StatusCode::kUnavailable:
      return "unavailable";
  }
  return "unknown";
}

std::string Status::to_string() const {
  if (ok()) return "ok";
  std::string s = status_code_name(code_);
  if (!message_.empty()) s += ": " + message_;
  return s;
}

std::ostream& operator<<(std::ostream& os, const Status& status) {
  return os << status.to_string();
}

}  // namespace plexus

#include "plexus/exit_reason.h"

#include "plexus/message.h"

namespace plexus {

ExitReason ExitReason::exception(std::string_view type, std::string_view what) {
  std::string detail(type);
  detail += ": ";
  detail += what;
  return ExitReason(Kind::kException, detail);
}

ExitReason ExitReason::error(Term term) {
  ExitReason reason(Kind::kError);
  reason.has_term_ = true;
  reason.term_ = std::move(term);
  return reason;
}

std::string ExitReason::to_string() const {
  switch (kind_) {
    case Kind::kNormal:
      return "normal";
    case Kind::kKill:
      return "kill";
    case Kind::kKilled:
      return "killed";
    case Kind::kShutdown:
      return detail_ ? "{shutdown,\"" + *detail_ + "\"}" : std::string("shutdown");
    case Kind::kNoProc:
      return "noproc";
    case Kind::kNoConnection:
      return "noconnection";
    case Kind::kError:
      if (has_term_) return term_.to_string();
      return "\"" + std::string(detail()) + "\"";
    case Kind::kException:
      return "{exception,\"" + std::string(detail()) + "\"}";
  }
  return "unknown";
}

std::ostream& operator<<(std::ostream& os, const ExitReason& reason) {
  return os << reason.to_string();
}

std::ostream& operator<<(std::ostream& os, const Exit& exit) {
  return os << "Exit{" << exit.from << ", " << exit.reason << "}";
}

namespace {
const std::string kNoName;
}  // namespace

const std::string& Down::name() const { return by_name ? by_name->name : kNoName; }
const std::string& Down::node() const { return by_name ? by_name->node : kNoName; }

std::ostream& operator<<(std::ostream& os, const Down& down) {
  os << "Down{" << down.ref << ", ";
  if (!down.by_name) {
    os << down.pid;
  } else {
    os << "{" << down.name() << ", " << (down.node().empty() ? "nonode" : down.node()) << "}";
  }
  return os << ", " << down.reason << "}";
}

}  // namespace plexus

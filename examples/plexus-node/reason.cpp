#include "reason.h"

#include "plexus/exit_reason_proto.h"

namespace plexus_node {

using plexus::ExitReason;

Reason to_message(const ExitReason& reason) {
  Reason out;
  switch (reason.kind()) {
    case ExitReason::Kind::kNormal:
      out.set_kind(Reason::NORMAL);
      break;
    case ExitReason::Kind::kKill:
      out.set_kind(Reason::KILL);
      break;
    case ExitReason::Kind::kKilled:
      out.set_kind(Reason::KILLED);
      break;
    case ExitReason::Kind::kShutdown:
      out.set_kind(Reason::SHUTDOWN);
      break;
    case ExitReason::Kind::kNoProc:
      out.set_kind(Reason::NOPROC);
      break;
    case ExitReason::Kind::kNoConnection:
      out.set_kind(Reason::NOCONNECTION);
      break;
    case ExitReason::Kind::kError:
      out.set_kind(Reason::ERROR);
      break;
    case ExitReason::Kind::kException:
      out.set_kind(Reason::EXCEPTION);
      break;
  }
  out.set_detail(std::string(reason.detail()));
  out.set_text(reason.to_string());
  plexus::to_proto(reason, out.mutable_exact());
  return out;
}

ExitReason from_message(const Reason& reason) {
  if (reason.has_exact()) return plexus::from_proto(reason.exact());
  switch (reason.kind()) {
    case Reason::NORMAL:
      return ExitReason::normal();
    case Reason::KILL:
      return ExitReason::kill();
    case Reason::KILLED:
      return ExitReason::killed();
    case Reason::SHUTDOWN:
      return reason.detail().empty() ? ExitReason::shutdown()
                                     : ExitReason::shutdown(reason.detail());
    case Reason::NOPROC:
      return ExitReason::noproc();
    case Reason::NOCONNECTION:
      return ExitReason::noconnection();
    default:
      return ExitReason::error(reason.detail());
  }
}

}  // namespace plexus_node

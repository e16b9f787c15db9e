// Why a process exited: Erlang's exit reasons.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

#include "plexus/term.h"

namespace plexus {

// An exit reason, with Erlang's meaning:
//   normal        the process finished; does not kill non-trapping linked processes
//   kill          sent with exit(pid, kill): untrappable; the victim exits with `killed`.
//                 A process that exits with reason kill itself is seen exiting with
//                 kill, which is then an ordinary reason (trappable), as in Erlang
//   killed        the reason of a process that was killed, as links and monitors see it
//   shutdown      an orderly stop requested by a supervisor (optionally with a detail)
//   noproc        the process did not exist
//   noconnection  the process's node was lost
//   error         any other reason: a text, or a structured Term such as
//                 `{badmatch,[1,2,3]}` (Erlang's custom reasons)
//   exception     the body threw; the detail is "<type>: <what()>"
//
// Copying is cheap: the detail text and the term are shared, not copied.
class ExitReason {
 public:
  enum class Kind : uint8_t {
    kNormal,
    kKill,
    kKilled,
    kShutdown,
    kNoProc,
    kNoConnection,
    kError,
    kException
  };

  ExitReason() = default;  // normal

  static ExitReason normal() { return ExitReason(Kind::kNormal); }
  static ExitReason kill() { return ExitReason(Kind::kKill); }
  static ExitReason killed() { return ExitReason(Kind::kKilled); }
  static ExitReason shutdown() { return ExitReason(Kind::kShutdown); }
  // `{shutdown, detail}` in Erlang: an orderly stop that says why.
  static ExitReason shutdown(std::string_view detail) {
    return ExitReason(Kind::kShutdown, detail);
  }
  static ExitReason noproc() { return ExitReason(Kind::kNoProc); }
  static ExitReason noconnection() { return ExitReason(Kind::kNoConnection); }
  static ExitReason error(std::string_view text) { return ExitReason(Kind::kError, text); }
  // An error reason that is a term, as Erlang's `exit({badmatch, [1,2,3]})`.
  // It has no detail text; term() gives the term.
  static ExitReason error(Term term);
  static ExitReason exception(std::string_view type, std::string_view what);

  Kind kind() const { return kind_; }
  bool is_normal() const { return kind_ == Kind::kNormal; }
  bool is_kill() const { return kind_ == Kind::kKill; }
  // Whether a detail text was given (`{shutdown, ""}` has one, `shutdown` not).
  bool has_detail() const { return detail_ != nullptr; }
  // The detail text of a shutdown, error or exception reason ("" otherwise).
  std::string_view detail() const {
    return detail_ ? std::string_view(*detail_) : std::string_view();
  }

  // The term of an error(Term) reason; null for every other reason.
  const Term* term() const { return has_term_ ? &term_ : nullptr; }

  // Erlang-like text: "normal", "killed", "{shutdown,\"x\"}", "\"text\"", and
  // the term itself in Erlang syntax for error(Term): "{badmatch,[1,2,3]}".
  std::string to_string() const;

  friend bool operator==(const ExitReason& a, const ExitReason& b) {
    return a.kind_ == b.kind_ && a.detail() == b.detail() && a.has_term_ == b.has_term_ &&
           a.term_ == b.term_;
  }

 private:
  explicit ExitReason(Kind kind) : kind_(kind) {}
  ExitReason(Kind kind, std::string_view detail)
      : kind_(kind), detail_(std::make_shared<const std::string>(detail)) {}

  Kind kind_ = Kind::kNormal;
  bool has_term_ = false;  // (a default Term is `[]`, itself a valid reason)
  std::shared_ptr<const std::string> detail_;
  Term term_;
};

std::ostream& operator<<(std::ostream& os, const ExitReason& reason);

}  // namespace plexus

// Status and Result<T>: errors a caller can cause, reported as values.
#pragma once

#include <cassert>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

namespace plexus {

// Why an operation failed. Kept small and stable: callers switch on it.
enum class StatusCode {
  kOk = 0,
  kNoProc,           // the target process does not exist (or no longer does)
  kTimeout,          // no answer within the deadline
  kNotFound,         // a name, ref or child that is not known
  kAlreadyExists,    // a name or child id that is taken
  kInvalidArgument,  // the caller passed something meaningless
  kExited,           // the callee exited while serving the request
  kBadType,          // a reply or message of an unexpected type
  kResourceExhausted,
  kShutdown,     // the runtime (or the callee) is shutting down
  kUnavailable,  // a node that cannot be reached
  kIgnored,      // a start that declined: nothing runs (OTP's `ignore`; see Server::init)
};

const char* status_code_name(StatusCode code);

// The result of an operation that returns no value. Cheap when OK. Functions
// whose failure a caller must not ignore are marked [[nodiscard]] one by one;
// a send, which fails only when the message cannot cross to a remote node,
// is not.
class Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status OK() { return Status(); }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "ok" or "<code name>: <message>".
  std::string to_string() const;

  // Equal when both the code and the message are.
  friend bool operator==(const Status& a, const Status& b) {
    return a.code_ == b.code_ && a.message_ == b.message_;
  }

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

std::ostream& operator<<(std::ostream& os, const Status& status);

// Either a value or the Status that explains why there is none.
template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : value_(std::move(value)) {}         // NOLINT: implicit by design
  Result(Status status) : status_(std::move(status)) {  // NOLINT: implicit by design
    assert(!status_.ok() && "a Result without a value needs an error status");
  }

  bool ok() const { return value_.has_value(); }
  const Status& status() const { return status_; }

  T& value() & {
    assert(ok());
    return *value_;
  }
  const T& value() const& {
    assert(ok());
    return *value_;
  }
  T&& value() && {
    assert(ok());
    return std::move(*value_);
  }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  Status status_;
  std::optional<T> value_;
};

}  // namespace plexus

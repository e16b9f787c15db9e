// Messages: move-only, type-erased values matched by type; and the system
// messages Exit and Down.
#pragma once

#include <memory>
#include <ostream>
#include <string>
#include <type_traits>
#include <utility>

#include "plexus/detail/envelope.h"
#include "plexus/detail/indirect.h"
#include "plexus/exit_reason.h"
#include "plexus/pid.h"

namespace plexus {

// Delivered to a process that traps exits when a linked process exits or when
// another process calls exit(pid, reason) on it.
struct Exit {
  Pid from;
  ExitReason reason;
};

// A registered name and the node it lives on: Erlang's {Name, Node}.
struct RegisteredName {
  std::string name;
  std::string node;  // empty in a runtime without a node
};

// Delivered once per monitor when the monitored process exits (or at once,
// with reason `noproc`, if it did not exist).
struct Down {
  Ref ref;
  Pid pid;  // null for a monitor by name whose name had no process
  ExitReason reason;
  // For a monitor of a registered name (Context::monitor(name[, node])): the
  // name and its node. Null for a monitor of a pid (most Downs, which one
  // word keeps as small and as cheap to move as before).
  detail::Indirect<RegisteredName> by_name = nullptr;

  // by_name's name and node; "" for a monitor of a pid.
  const std::string& name() const;
  const std::string& node() const;
};

// A message from another node whose protobuf type this program does not
// know (no code here mentions it): delivered as it arrived, still encoded.
struct UnknownMessage {
  std::string type_name;
  std::string payload;
};

std::ostream& operator<<(std::ostream& os, const Exit& exit);
std::ostream& operator<<(std::ostream& os, const Down& down);

// Owns one message of any type. Move-only; the value is never copied or
// serialized by a local send.
class Message {
 public:
  Message() = default;
  explicit Message(detail::Envelope* env) : env_(env) {}

  template <class T>
  static Message of(T&& value) {
    return Message(detail::make_envelope<std::decay_t<T>>(detail::EnvelopeKind::kMessage,
                                                          std::forward<T>(value)));
  }

  bool empty() const { return env_ == nullptr; }
  TypeId type() const { return env_ ? env_->type : nullptr; }

  template <class T>
  bool is() const {
    return env_ && env_->type == type_id<T>();
  }
  // The value if the message holds a T, else nullptr.
  template <class T>
  T* get_if() {
    return is<T>() ? &detail::payload<T>(env_.get()) : nullptr;
  }
  template <class T>
  const T* get_if() const {
    return is<T>() ? &detail::payload<T>(env_.get()) : nullptr;
  }
  // The value; the message must hold a T.
  template <class T>
  T& get() {
    return *get_if<T>();
  }

  detail::Envelope* release() { return env_.release(); }

 private:
  std::unique_ptr<detail::Envelope> env_;
};

}  // namespace plexus

// The unit a mailbox holds: a message or a signal, type-erased, never serialized locally.
#pragma once

#include <atomic>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <type_traits>
#include <utility>

#include "plexus/exit_reason.h"
#include "plexus/pid.h"

namespace plexus {

// Identifies a C++ type at run time without RTTI: one address per type.
using TypeId = const void*;

// A type whose values can cross nodes: a protobuf message class (generated
// by protoc, full or lite runtime). Detected by shape, so that this header
// does not depend on protobuf.
template <class T>
concept WireMessage = requires(const T& value, T& out, const void* data, int size, uint8_t* to) {
  { value.ByteSizeLong() } -> std::convertible_to<size_t>;
  { value.SerializeWithCachedSizesToArray(to) } -> std::convertible_to<uint8_t*>;
  { out.ParseFromArray(data, size) } -> std::convertible_to<bool>;
  { T::default_instance().GetTypeName() } -> std::convertible_to<std::string>;
};

namespace detail {
template <class T>
char register_wire_type();

template <class T>
struct TypeTag {
  static constexpr char id = 0;
};
// A wire type's tag registers its codec during static initialization, so
// that every type a program mentions (in a send, a receive pattern, a
// Message::is) can be decoded when it arrives from another node.
template <WireMessage T>
struct TypeTag<T> {
  static inline const char id = register_wire_type<T>();
};
}  // namespace detail

template <class T>
constexpr TypeId type_id() {
  return &detail::TypeTag<std::remove_cvref_t<T>>::id;
}

namespace detail {

// What an envelope carries. Messages are what receive patterns see; signals
// are handled by the runtime in the order they arrive, as Erlang handles them.
enum class EnvelopeKind : uint8_t {
  kMessage,  // a plain message (also Exit and Down once a signal becomes one)
  kCall,     // a request made with call(); carries the caller and a ref
  kReply,    // the reply to a call; carries the ref
  kCast,     // a Server cast
  // Signals:
  kLink,
  kUnlink,
  kExit,      // exit(pid, reason); payload Exit
  kLinkExit,  // a linked process exited; payload Exit
  kMonitor,
  kDemonitor,
  kDown,     // a monitored process's exit; payload Down; becomes a message if the monitor is active
  kTimeout,  // a receive or idle timeout armed by the process itself
  kMonitorAdopt,  // the receiver now monitors `from` under `ref` (a remote spawn with monitor)
  kProcessInfo,   // `from` asks for the receiver's ProcessInfo under `ref` (never crosses nodes)
  // Not a signal: a node of the in-queue holding a run of envelopes from one
  // sender's turn (runtime internal; never seen outside the runtime).
  kRun,
};

inline bool is_signal(EnvelopeKind kind) {
  return kind >= EnvelopeKind::kLink && kind != EnvelopeKind::kRun;
}

// Header of every mailbox entry. `next` links the entry in the lock-free
// in-queue and then in the owner's private queue.
struct Envelope {
  Envelope(TypeId t, EnvelopeKind k) : type(t), kind(k) {}
  virtual ~Envelope() = default;
  Envelope(const Envelope&) = delete;
  Envelope& operator=(const Envelope&) = delete;

  // Small envelopes come from per-thread caches (envelope_pool.cpp).
  static void* operator new(size_t size);
  static void operator delete(void* p, size_t size);

  Envelope* next = nullptr;
  TypeId type;
  uint32_t target_serial =
      0;  // the incarnation it was sent to; a mismatch means "sent to a dead process"
  EnvelopeKind kind;
  Pid from;  // the sender, for signals, calls and replies (null for plain messages)
  Ref ref;   // the monitor or call reference, where there is one
};

template <class T>
struct TypedEnvelope final : Envelope {
  template <class... Args>
  explicit TypedEnvelope(EnvelopeKind k, Args&&... args)
      : Envelope(type_id<T>(), k), value(std::forward<Args>(args)...) {}
  T value;
};

template <class T>
T& payload(Envelope* env) {
  return static_cast<TypedEnvelope<T>*>(env)->value;
}

// Payload of signals that carry nothing but their sender and ref (link,
// unlink, monitor, demonitor).
struct NoPayload {};
// Payload of a timeout signal: which armed timeout fired.
struct TimeoutPayload {
  uint64_t token = 0;
};

template <class T, class... Args>
Envelope* make_envelope(EnvelopeKind kind, Args&&... args) {
  return new TypedEnvelope<T>(kind, std::forward<Args>(args)...);
}

// How a wire type crosses nodes. One per type, registered at static
// initialization (see TypeTag); looked up by TypeId when sending and by
// protobuf full name when receiving.
struct WireType {
  TypeId type;
  std::string (*name)();
  // Sizes the payload (and caches the sizes protobuf needs to serialize).
  size_t (*byte_size)(Envelope* env);
  // Writes the payload sized by byte_size; returns the end.
  uint8_t* (*serialize)(Envelope* env, uint8_t* to);
  // A new envelope of `kind` holding the value parsed from `data`; null if
  // the bytes do not parse.
  Envelope* (*parse)(const void* data, size_t size, EnvelopeKind kind);
};

void add_wire_type(const WireType& type);
const WireType* find_wire_type(TypeId type);
const WireType* find_wire_type(const std::string& name);

template <class T>
char register_wire_type() {
  add_wire_type(
      WireType{&TypeTag<T>::id, [] { return std::string(T::default_instance().GetTypeName()); },
               [](Envelope* env) { return static_cast<size_t>(payload<T>(env).ByteSizeLong()); },
               [](Envelope* env, uint8_t* to) {
                 return payload<T>(env).SerializeWithCachedSizesToArray(to);
               },
               [](const void* data, size_t size, EnvelopeKind kind) -> Envelope* {
                 auto* env = new TypedEnvelope<T>(kind);
                 if (size > static_cast<size_t>(INT32_MAX) ||
                     !env->value.ParseFromArray(data, static_cast<int>(size))) {
                   delete env;
                   return nullptr;
                 }
                 return env;
               }});
  return 0;
}

}  // namespace detail
}  // namespace plexus

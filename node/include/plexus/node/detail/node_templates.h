// The template bodies of Node (plexus/node/node.h). Internal; included by node.h.
#pragma once

#include <optional>
#include <string>
#include <type_traits>
#include <utility>

#include "plexus/detail/runtime_access.h"
#include "plexus/message.h"
#include "plexus/receive.h"
#include "plexus/spi/distribution.h"

namespace plexus {

template <class T>
Status Node::send(const std::string& node, const std::string& name, T&& msg) {
  using D = std::decay_t<T>;
  if (node == this->name()) return runtime().send(name, std::forward<T>(msg));
  if constexpr (!WireMessage<D>) {
    return detail::not_a_wire_type(Pid{}, typeid(D));
  } else {
    return send_named(
        node, name, detail::make_envelope<D>(detail::EnvelopeKind::kMessage, std::forward<T>(msg)));
  }
}

template <class A, class F>
Status Node::register_process(const std::string& type, F body) {
  static_assert(WireMessage<A>, "spawn arguments must be a protobuf message");
  return add_process_type(type, std::string(A::default_instance().GetTypeName()),
                          [body = std::move(body)](Runtime& rt, const std::string& bytes,
                                                   Status* error) -> detail::Process* {
                            A args;
                            if (!args.ParseFromString(bytes)) {
                              *error = Status(StatusCode::kInvalidArgument,
                                              "spawn arguments do not parse");
                              return nullptr;
                            }
                            return spi::make_process(rt, body, std::move(args));
                          });
}

template <class A>
Ref Node::spawn_request(Pid requester, const std::string& node, const std::string& type,
                        const A& args, SpawnOptions options) {
  static_assert(WireMessage<A>, "spawn arguments must be a protobuf message");
  return request_spawn(requester, node, type, std::string(A::default_instance().GetTypeName()),
                       args.SerializeAsString(), options);
}

template <class A>
Task<Result<Pid>> Node::spawn(Context self, const std::string& node, const std::string& type,
                              A args, SpawnOptions options, std::chrono::milliseconds timeout) {
  Ref ref = spawn_request(self.self(), node, type, args, options);
  std::optional<Result<Pid>> result;
  co_await self.receive(
      match([ref](const SpawnReply& r) { return r.ref == ref; },
            [&](SpawnReply& r) {
              if (r.status.ok()) {
                result.emplace(r.pid);
              } else {
                result.emplace(std::move(r.status));
              }
            }),
      after(timeout, [&] {
        result.emplace(Status(StatusCode::kTimeout, "spawn on " + node + " timed out"));
      }));
  co_return std::move(*result);
}

}  // namespace plexus

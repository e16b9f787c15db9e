#include "plexus/server.h"

#include "plexus/runtime.h"

namespace plexus {

void Server::handle_call(Message& request, const From& from) {
  (void)request;
  (void)from;
  stop(ExitReason::error("unexpected call"));
}

void Server::handle_cast(Message& msg) {
  (void)msg;
  stop(ExitReason::error("unexpected cast"));
}

void Server::handle_info(Message& msg) {
  (void)msg;
  self().runtime().log(LogLevel::kWarning,
                       "server " + self().self().to_string() + " dropped an unexpected message");
}

}  // namespace plexus

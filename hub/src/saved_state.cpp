#include "plexus/hub/saved_state.h"

#include "hub_state.h"
#include "saved_state_messages.h"

namespace plexus::hub {

Task<Status> save_state(Context self, std::string hub_id, std::string child_id, std::string state,
                        std::chrono::milliseconds timeout) {
  Pid server = self.runtime().whereis(detail::server_name(hub_id));
  if (!server) co_return Status(StatusCode::kNotFound, "this node runs no hub " + hub_id);
  Result<detail::StateSaved> saved = co_await self.call<detail::StateSaved>(
      server, detail::SaveState{std::move(child_id), std::move(state)}, timeout);
  if (!saved.ok()) co_return saved.status();
  co_return saved->status;
}

}  // namespace plexus::hub

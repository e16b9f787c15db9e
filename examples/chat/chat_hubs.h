// ChatHubs: the two hubs of the chat example (rooms, sessions), for its
// processes to find.
#pragma once

#include <mutex>
#include <vector>

#include "plexus/context.h"
#include "plexus/hub/hub.h"
#include "plexus/task.h"

namespace plexus_chat {

inline constexpr const char* kRoomsHub = "chat_rooms";
inline constexpr const char* kSessionsHub = "chat_sessions";

// A hub starts the children it owns as soon as it runs, before the daemon
// has started the next hub and handed both to the application: a child
// that starts early waits (wait) until open() names them. Written once by
// the daemon's main thread (open), read by any process after.
class ChatHubs {
 public:
  struct Hubs {
    plexus::hub::Hub* rooms = nullptr;
    plexus::hub::Hub* sessions = nullptr;
  };

  // Names the hubs and wakes the processes waiting for them.
  void open(plexus::Runtime& runtime, Hubs hubs) {
    std::vector<plexus::Pid> waiting;
    {
      std::lock_guard<std::mutex> lock(mu_);
      hubs_ = hubs;
      waiting.swap(waiting_);
    }
    for (plexus::Pid pid : waiting) (void)runtime.send(pid, Opened{});
  }

  // The hubs, once open() has named them.
  plexus::Task<Hubs> wait(plexus::Context self) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (hubs_.rooms) co_return hubs_;
      waiting_.push_back(self.self());
    }
    co_await self.receive([](Opened&) {});
    std::lock_guard<std::mutex> lock(mu_);
    co_return hubs_;
  }

 private:
  struct Opened {};
  std::mutex mu_;
  Hubs hubs_;
  std::vector<plexus::Pid> waiting_;
};

}  // namespace plexus_chat

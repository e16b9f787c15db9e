// ChatServer: the chat's TCP port on one node, for people (nc) and bots.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "chat_hubs.h"
#include "plexus/node/node.h"
#include "plexus/status.h"

namespace plexus_chat {

// Accepts connections on a thread of its own (Boost.Asio) and gives each a
// gateway process on the node (gateway.h), which speaks the line protocol.
class ChatServer {
 public:
  // Listens on address:port (0: any free port). kInvalidArgument for an
  // address that does not parse, kUnavailable if the port is taken.
  static plexus::Result<std::unique_ptr<ChatServer>> start(plexus::Node& node, ChatHubs* hubs,
                                                           const std::string& address,
                                                           uint16_t port);
  // Stops accepting, closes every connection (their gateways end) and
  // joins the thread.
  ~ChatServer();
  ChatServer(const ChatServer&) = delete;
  ChatServer& operator=(const ChatServer&) = delete;

  uint16_t port() const;

  struct State;  // chat_server.cpp

 private:
  explicit ChatServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace plexus_chat

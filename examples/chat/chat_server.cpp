#include "chat_server.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <thread>
#include <vector>

#include "connection.h"
#include "gateway.h"
#include "plexus/inbox.h"

namespace plexus_chat {

namespace asio = boost::asio;
using boost::system::error_code;

struct ChatServer::State {
  State(plexus::Node& n, ChatHubs* h) : node(n), hubs(h), acceptor(io) {}

  void accept() {
    acceptor.async_accept([this](error_code ec, asio::ip::tcp::socket socket) {
      if (ec == asio::error::operation_aborted) return;
      if (!ec) {
        auto connection = std::make_shared<Connection>(std::move(socket), node.runtime());
        plexus::Pid gateway = node.runtime().spawn(plexus_chat::gateway, connection, hubs);
        if (gateway) {
          connection->start(gateway);
          // A connection whose gateway has ended is gone (the gateway held it).
          std::erase_if(open, [](const Open& o) { return o.connection.expired(); });
          open.push_back({connection, gateway});
        } else {
          connection->write("! this node runs too many processes; try another");
          connection->close();
        }
      }
      accept();
    });
  }

  plexus::Node& node;
  ChatHubs* hubs;
  asio::io_context io;
  asio::ip::tcp::acceptor acceptor;
  uint16_t port = 0;
  // The connections and their gateways, to close and wait for at the end.
  // On the I/O thread.
  struct Open {
    std::weak_ptr<Connection> connection;
    plexus::Pid gateway;
  };
  std::vector<Open> open;
  std::thread thread;
};

plexus::Result<std::unique_ptr<ChatServer>> ChatServer::start(plexus::Node& node, ChatHubs* hubs,
                                                              const std::string& address,
                                                              uint16_t port) {
  error_code ec;
  asio::ip::address ip = asio::ip::make_address(address, ec);
  if (ec) {
    return plexus::Status(plexus::StatusCode::kInvalidArgument,
                          "--chat-address: '" + address + "' is not an IP address");
  }
  auto state = std::make_unique<State>(node, hubs);
  asio::ip::tcp::endpoint endpoint(ip, port);
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return plexus::Status(
        plexus::StatusCode::kUnavailable,
        "the chat port " + address + ":" + std::to_string(port) + ": " + ec.message());
  }
  state->port = state->acceptor.local_endpoint().port();
  state->accept();
  State* s = state.get();
  state->thread = std::thread([s] { s->io.run(); });
  return std::unique_ptr<ChatServer>(new ChatServer(std::move(state)));
}

ChatServer::ChatServer(std::unique_ptr<State> state) : state_(std::move(state)) {}

ChatServer::~ChatServer() {
  // Each gateway ends on its connection's Closed; a connection's Connection
  // must not outlive the I/O context its socket belongs to, so wait for
  // every gateway to end before the context goes.
  plexus::Inbox inbox(state_->node.runtime());
  std::vector<plexus::Pid> gateways;
  asio::post(state_->io, [s = state_.get(), &inbox, &gateways] {
    error_code ignored;
    s->acceptor.close(ignored);
    for (const State::Open& o : s->open) {
      if (auto connection = o.connection.lock()) connection->abort("the node is stopping");
      inbox.context().monitor(o.gateway);
      gateways.push_back(o.gateway);
    }
  });
  // run() returns once the last connection's handlers are done.
  state_->thread.join();
  for (size_t down = 0; down < gateways.size();) {
    if (!inbox.receive([&](plexus::Down&) { ++down; },
                       plexus::after(std::chrono::seconds(5), [] {}))) {
      for (plexus::Pid gateway : gateways)
        state_->node.runtime().exit(gateway, plexus::ExitReason::kill());
    }
  }
}

uint16_t ChatServer::port() const { return state_->port; }

}  // namespace plexus_chat

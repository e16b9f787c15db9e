// TcpConnection: a Connection over a TCP socket, with TLS if the node has it.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <optional>
#include <string>

#include "connection.h"

namespace plexus::detail {

class TcpConnection final : public Connection {
 public:
  // `tls`: the node's TLS context, or null for plain TCP.
  TcpConnection(ConnectionHost& host, Backend& backend, Handshake handshake, Peer* peer,
                boost::asio::ip::tcp::socket socket, boost::asio::ssl::context* tls);

  std::string remote_address() const override { return remote_address_; }
  std::string remote_host() const override {
    return remote_address_.substr(0, remote_address_.rfind(':'));
  }

 private:
  void open_stream() override;
  void read_some(uint8_t* into, size_t size) override;
  void write_all(const std::string& bytes) override;
  void close_stream() override;
  // Through TLS only the loop may write: the stream keeps state.
  int direct_fd() const override { return tls_ ? -1 : fd_; }

  boost::asio::ip::tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  // Read once, at the start: a closed socket no longer knows it.
  std::string remote_address_;
  int fd_;
};

}  // namespace plexus::detail

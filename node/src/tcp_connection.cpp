#include "tcp_connection.h"

#include <memory>

namespace plexus::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

std::string address_of(const tcp::socket& socket) {
  boost::system::error_code ec;
  auto ep = socket.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

std::string read_error(const boost::system::error_code& ec) {
  return ec == asio::error::eof ? "connection closed by peer" : "read failed: " + ec.message();
}

}  // namespace

TcpConnection::TcpConnection(ConnectionHost& host, Backend& backend, Handshake handshake,
                             Peer* peer, tcp::socket socket, asio::ssl::context* tls)
    : Connection(host, backend, std::move(handshake), peer),
      socket_(std::move(socket)),
      remote_address_(address_of(socket_)),
      fd_(socket_.native_handle()) {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
  if (tls) tls_.emplace(socket_, *tls);
}

void TcpConnection::open_stream() {
  if (!tls_) {
    stream_ready();
    return;
  }
  auto type = handshake().role() == Handshake::Role::kConnect ? asio::ssl::stream_base::client
                                                              : asio::ssl::stream_base::server;
  tls_->async_handshake(type,
                        [self = shared_from_this(), this](const boost::system::error_code& ec) {
                          if (is_closed()) return;
                          if (ec) {
                            close("TLS handshake failed: " + ec.message());
                            return;
                          }
                          stream_ready();
                        });
}

void TcpConnection::read_some(uint8_t* into, size_t size) {
  auto handler = [self = shared_from_this(), this](const boost::system::error_code& ec, size_t n) {
    on_read(n, ec ? read_error(ec) : std::string());
  };
  if (tls_) {
    tls_->async_read_some(asio::buffer(into, size), std::move(handler));
  } else {
    socket_.async_read_some(asio::buffer(into, size), std::move(handler));
  }
}

void TcpConnection::write_all(const std::string& bytes) {
  auto handler = [self = shared_from_this(), this](const boost::system::error_code& ec, size_t) {
    on_write(ec ? ec.message() : std::string());
  };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(bytes), std::move(handler));
  } else {
    asio::async_write(socket_, asio::buffer(bytes), std::move(handler));
  }
}

void TcpConnection::close_stream() {
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

}  // namespace plexus::detail

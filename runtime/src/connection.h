// Connection: one TCP (optionally TLS) connection to a peer node.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "frame_codec.h"
#include "handshake.h"

namespace plexus::detail {

class NodeImpl;
class Peer;
struct WireType;

// Lives on the node's I/O thread: every member function runs there. The
// handshake runs first; afterwards the connection writes what its Peer
// queued and hands each frame it reads to the node. While it has nothing to
// write, a plain TCP connection lets senders write to its socket directly
// (Peer::write_fd).
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Clock = std::chrono::steady_clock;

  Connection(NodeImpl& node, boost::asio::ip::tcp::socket socket, Handshake handshake, Peer* peer);

  // TLS handshake (if configured), then the node handshake.
  void start();
  // Closes the socket once; the node hears of it with `reason`.
  void close(const std::string& reason);
  // Writes what the peer queued (after the handshake).
  void flush();
  // Closes after what is queued has been written.
  void close_after_flush(const std::string& reason);

  // Binds the connection to its peer once the handshake is done.
  void attach(Peer* peer, uint32_t index) {
    peer_ = peer;
    peer_index_ = index;
  }

  bool is_up() const { return up_; }
  bool is_closed() const { return closed_; }
  Peer* peer() const { return peer_; }
  uint32_t peer_index() const { return peer_index_; }
  const Handshake& handshake() const { return handshake_; }
  Clock::time_point started() const { return started_; }
  Clock::time_point last_read() const { return last_read_; }
  Clock::time_point last_write() const { return last_write_; }
  std::string remote_endpoint() const;

  // Received types: number on the wire -> codec (null: unknown here, named).
  struct ReceivedType {
    const WireType* type = nullptr;
    std::string name;
  };
  std::vector<ReceivedType> received_types;

 private:
  void start_handshake();
  void read_more();
  void on_read(const boost::system::error_code& ec, size_t n);
  // False if the connection was closed.
  bool on_frame(std::string_view bytes);
  void write(std::string bytes);
  void on_write(const boost::system::error_code& ec, size_t n);

  NodeImpl& node_;
  boost::asio::ip::tcp::socket socket_;
  std::optional<boost::asio::ssl::stream<boost::asio::ip::tcp::socket&>> tls_;
  Handshake handshake_;
  Peer* peer_;
  uint32_t peer_index_ = 0;
  FrameReader reader_;
  wire::Frame frame_;  // reused for every frame read
  std::string writing_;
  bool write_in_flight_ = false;
  bool up_ = false;
  bool closed_ = false;
  std::optional<std::string> close_when_flushed_;
  Clock::time_point started_;
  Clock::time_point last_read_;
  Clock::time_point last_write_;
};

}  // namespace plexus::detail

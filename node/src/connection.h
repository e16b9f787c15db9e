// Connection: one connection to a peer node, whatever carries its bytes.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "backend.h"
#include "frame_codec.h"
#include "handshake.h"

namespace plexus::detail {

class Peer;
struct WireType;

// Frames before the handshake is done are small (a Hello, a proof): a
// stranger may not make this node buffer more.
inline constexpr size_t kHandshakeFrameLimit = 4096;

// The protocol of a connection over a byte stream that a backend subclass
// carries (TcpConnection, LoopbackConnection): the handshake first; then the
// frames the peer sends go to the host, and what its Peer queued is written.
// Lives on the loop: every member function runs there.
class Connection : public std::enable_shared_from_this<Connection> {
 public:
  using Clock = Backend::Clock;

  Connection(ConnectionHost& host, Backend& backend, Handshake handshake, Peer* peer);
  virtual ~Connection() = default;

  // Starts the handshake (after the stream's own, such as TLS), to be done
  // within the host's handshake timeout.
  void start();
  // Closes the stream once; the host hears of it with `reason`.
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
  // "host:port" of the other end, for log lines ("?" if unknown).
  virtual std::string remote_address() const = 0;
  // The other end's host alone, for limits per source.
  virtual std::string remote_host() const = 0;

  // Received types: number on the wire -> codec (null: unknown here, named).
  struct ReceivedType {
    const WireType* type = nullptr;
    std::string name;
  };
  std::vector<ReceivedType> received_types;

 protected:
  // ---- What a subclass does with its stream
  // Starts what the stream needs before the handshake (TLS), then calls
  // stream_ready(); or close() if it fails.
  virtual void open_stream() { stream_ready(); }
  // Reads at most `size` bytes into `into`; calls on_read when done.
  virtual void read_some(uint8_t* into, size_t size) = 0;
  // Writes all of `bytes` (kept alive until on_write); one write at a time.
  virtual void write_all(const std::string& bytes) = 0;
  virtual void close_stream() = 0;
  // The socket senders may write to directly while the loop has nothing to
  // write (see OutQueue); -1 for none.
  virtual int direct_fd() const { return -1; }

  // ---- What the subclass reports
  void stream_ready();
  // `n` bytes were read into what read_some was given; `error` empty if OK.
  void on_read(size_t n, const std::string& error);
  void on_write(const std::string& error);

  Backend& backend_;

 private:
  void read_more();
  // False if the connection was closed.
  bool on_frame(std::string_view bytes);
  void write(std::string bytes);

  ConnectionHost& host_;
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

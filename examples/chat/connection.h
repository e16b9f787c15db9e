// Connection: one TCP client of the chat, read and written on the chat
// server's I/O thread, and driven by its gateway process.
#pragma once

#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>

#include "plexus/pid.h"
#include "plexus/runtime.h"

namespace plexus_chat {

// A line the client sent, without its end ("\n" or "\r\n"); to the gateway.
struct LineIn {
  std::string text;
};
// The client closed the connection, or it broke; to the gateway.
struct Closed {
  std::string why;
};

class Connection : public std::enable_shared_from_this<Connection> {
 public:
  // A longer line closes the connection.
  static constexpr size_t kMaxLine = 4096;
  // Lines sent to the gateway and not yet handled (line_done) before
  // reading stops, until it has caught up: a client that types faster than
  // the chat answers waits in TCP, not in a mailbox.
  static constexpr int kMaxPendingLines = 32;
  // Bytes queued for a client that does not read; one more closes it.
  static constexpr size_t kMaxQueuedBytes = size_t{1} << 20;

  Connection(boost::asio::ip::tcp::socket socket, plexus::Runtime& runtime);

  // Starts reading (on the I/O thread): each line goes to `gateway` as a
  // LineIn, the end as one Closed.
  void start(plexus::Pid gateway);
  // Queues `line` and a "\n" for the client. Any thread.
  void write(std::string line);
  // The gateway has handled one LineIn. Any thread.
  void line_done();
  // Closes once what is queued is written. Any thread.
  void close();
  // Closes now, dropping what is queued. Any thread.
  void abort(std::string why);

 private:
  // ---- On the I/O thread
  void read();
  void on_line(size_t bytes);
  void flush();
  void shut(const std::string& why);

  boost::asio::ip::tcp::socket socket_;
  plexus::Runtime& runtime_;
  plexus::Pid gateway_;
  std::string in_;
  std::deque<std::string> out_;
  size_t out_bytes_ = 0;
  bool writing_ = false;
  bool reading_ = false;
  bool closing_ = false;
  bool closed_ = false;
  // Written by the I/O thread (+1 a line) and the gateway (-1), read by both.
  std::atomic<int> pending_lines_{0};
};

}  // namespace plexus_chat

#include "connection.h"

#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/write.hpp>

namespace plexus_chat {

namespace asio = boost::asio;
using boost::system::error_code;

Connection::Connection(asio::ip::tcp::socket socket, plexus::Runtime& runtime)
    : socket_(std::move(socket)), runtime_(runtime) {}

void Connection::start(plexus::Pid gateway) {
  gateway_ = gateway;
  read();
}

void Connection::write(std::string line) {
  asio::post(socket_.get_executor(), [self = shared_from_this(), line = std::move(line)]() mutable {
    if (self->closed_ || self->closing_) return;
    self->out_bytes_ += line.size() + 1;
    if (self->out_bytes_ > kMaxQueuedBytes) {
      self->shut("the client does not read what it is sent");
      return;
    }
    self->out_.push_back(std::move(line) + "\n");
    self->flush();
  });
}

void Connection::line_done() {
  // Only the line that brings it back under the limit resumes reading
  // (read() stopped at the limit).
  if (pending_lines_.fetch_sub(1) == kMaxPendingLines) {
    asio::post(socket_.get_executor(), [self = shared_from_this()] {
      if (!self->reading_ && !self->closed_ && !self->closing_) self->read();
    });
  }
}

void Connection::close() {
  asio::post(socket_.get_executor(), [self = shared_from_this()] {
    self->closing_ = true;
    if (!self->writing_) self->shut("closed");
  });
}

void Connection::abort(std::string why) {
  asio::post(socket_.get_executor(),
             [self = shared_from_this(), why = std::move(why)] { self->shut(why); });
}

void Connection::read() {
  if (pending_lines_.load() >= kMaxPendingLines) return;  // line_done reads again
  reading_ = true;
  asio::async_read_until(
      socket_, asio::dynamic_buffer(in_, kMaxLine), '\n',
      [self = shared_from_this()](error_code ec, size_t bytes) {
        self->reading_ = false;
        if (ec == asio::error::not_found) {
          // Says why, then closes (shut, once written).
          self->out_.push_back("! a line longer than " + std::to_string(kMaxLine) +
                               " bytes; bye\n");
          self->closing_ = true;
          self->flush();
        } else if (ec) {
          self->shut(ec == asio::error::eof ? "closed by the client" : ec.message());
        } else {
          self->on_line(bytes);
        }
      });
}

void Connection::on_line(size_t bytes) {
  std::string line = in_.substr(0, bytes - 1);
  in_.erase(0, bytes);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  pending_lines_.fetch_add(1);
  if (!runtime_.send(gateway_, LineIn{std::move(line)}).ok()) {
    shut("its gateway is gone");
    return;
  }
  read();
}

void Connection::flush() {
  if (writing_ || out_.empty() || closed_) return;
  writing_ = true;
  asio::async_write(socket_, asio::buffer(out_.front()),
                    [self = shared_from_this()](error_code ec, size_t) {
                      self->writing_ = false;
                      if (ec) {
                        self->shut(ec.message());
                        return;
                      }
                      self->out_bytes_ -= self->out_.front().size();
                      self->out_.pop_front();
                      if (!self->out_.empty()) {
                        self->flush();
                      } else if (self->closing_) {
                        self->shut("closed");
                      }
                    });
}

void Connection::shut(const std::string& why) {
  if (closed_) return;
  closed_ = true;
  error_code ignored;
  socket_.shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  (void)runtime_.send(gateway_, Closed{why});
}

}  // namespace plexus_chat

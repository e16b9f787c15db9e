#include "connection.h"

#include "node_impl.h"

namespace plexus::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {
constexpr size_t kReadChunk = 64 * 1024;
}

Connection::Connection(NodeImpl& node, tcp::socket socket, Handshake handshake, Peer* peer)
    : node_(node),
      socket_(std::move(socket)),
      handshake_(std::move(handshake)),
      peer_(peer),
      reader_(node.options.max_frame_size),
      started_(Clock::now()),
      last_read_(started_),
      last_write_(started_) {
  boost::system::error_code ignored;
  socket_.set_option(tcp::no_delay(true), ignored);
}

std::string Connection::remote_endpoint() const {
  boost::system::error_code ec;
  auto ep = socket_.remote_endpoint(ec);
  if (ec) return "?";
  return ep.address().to_string() + ":" + std::to_string(ep.port());
}

void Connection::start() {
  if (!node_.tls) {
    start_handshake();
    return;
  }
  tls_.emplace(socket_, *node_.tls);
  auto type = handshake_.role() == Handshake::Role::kConnect ? asio::ssl::stream_base::client
                                                             : asio::ssl::stream_base::server;
  tls_->async_handshake(type, [self = shared_from_this()](const boost::system::error_code& ec) {
    if (self->closed_) return;
    if (ec) {
      self->close("TLS handshake failed: " + ec.message());
      return;
    }
    self->start_handshake();
  });
}

void Connection::start_handshake() {
  std::string out;
  handshake_.start(&out);
  if (!out.empty()) write(std::move(out));
  read_more();
}

void Connection::read_more() {
  size_t available = 0;
  uint8_t* space = reader_.space(std::max(kReadChunk, reader_.missing()), &available);
  auto handler = [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
    self->on_read(ec, n);
  };
  if (tls_) {
    tls_->async_read_some(asio::buffer(space, available), std::move(handler));
  } else {
    socket_.async_read_some(asio::buffer(space, available), std::move(handler));
  }
}

void Connection::on_read(const boost::system::error_code& ec, size_t n) {
  if (closed_) return;
  if (ec) {
    close(ec == asio::error::eof ? "connection closed by peer" : "read failed: " + ec.message());
    return;
  }
  last_read_ = Clock::now();
  reader_.commit(n);
  uint64_t frames = 0;
  for (;;) {
    std::string_view bytes;
    FrameReader::Next next = reader_.next(&bytes);
    if (next == FrameReader::Next::kNeedMore) break;
    if (up_) ++frames;
    if (next == FrameReader::Next::kTooLarge) {
      close("frame of " + std::to_string(reader_.announced()) + " bytes is above the limit of " +
            std::to_string(node_.options.max_frame_size));
      return;
    }
    if (!on_frame(bytes)) return;
  }
  if (up_ && frames > 0) {
    // Once per read, not per frame: the peer's lock is the senders' too.
    std::lock_guard<std::mutex> lock(peer_->mu);
    peer_->stats.frames_in += frames;
    peer_->stats.bytes_in += n;
  }
  read_more();
}

bool Connection::on_frame(std::string_view bytes) {
  if (!frame_.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    close("a frame does not parse");
    return false;
  }
  if (up_) {
    std::string error;
    if (!node_.on_frame(*this, frame_, &error)) {
      close(error);
      return false;
    }
    return true;
  }
  std::string out;
  Handshake::State state = handshake_.on_frame(frame_, &out);
  if (state == Handshake::State::kDone) {
    // The node decides before the acceptor's Welcome goes out: a connection
    // that lost a race must not look up to the other side even for a moment.
    if (!node_.on_up(shared_from_this())) {
      close("lost a simultaneous connect to " + handshake_.peer_name());
      return false;
    }
    up_ = true;
    if (!out.empty()) write(std::move(out));
    flush();
    return true;
  }
  if (!out.empty()) write(std::move(out));
  if (state == Handshake::State::kFailed) {
    if (handshake_.refused_as_duplicate()) {
      close_after_flush(handshake_.error());
    } else if (handshake_.role() == Handshake::Role::kAccept && write_in_flight_) {
      close_after_flush("handshake failed: " + handshake_.error());  // let the refusal out
    } else {
      close("handshake failed: " + handshake_.error());
    }
    return false;
  }
  return true;
}

void Connection::write(std::string bytes) {
  if (write_in_flight_) {
    // Handshake frames are written one at a time; a second one waits for the
    // first (it cannot happen in the protocol, but stay safe).
    writing_ += bytes;
    return;
  }
  writing_ = std::move(bytes);
  write_in_flight_ = true;
  auto handler = [self = shared_from_this()](const boost::system::error_code& ec, size_t n) {
    self->on_write(ec, n);
  };
  if (tls_) {
    asio::async_write(*tls_, asio::buffer(writing_), std::move(handler));
  } else {
    asio::async_write(socket_, asio::buffer(writing_), std::move(handler));
  }
}

void Connection::flush() {
  if (closed_ || write_in_flight_ || !up_) return;
  std::string batch;
  {
    std::lock_guard<std::mutex> lock(peer_->mu);
    peer_->flush_posted = false;
    if (peer_->out.empty()) {
      if (close_when_flushed_) {
        // fall through to the close below, outside the lock
      } else {
        // Idle: until we take `out` again, senders may write to the socket
        // themselves (NodeImpl::kick).
        if (!tls_) peer_->write_fd = socket_.native_handle();
        return;
      }
    } else {
      peer_->write_fd = -1;
      batch.swap(peer_->out);
      peer_->out.swap(writing_);  // reuse the last batch's buffer
      peer_->out.clear();
      ++peer_->stats.writes;
      peer_->stats.bytes_out += batch.size();
      peer_->drained.notify_all();
    }
  }
  if (batch.empty()) {
    close(*close_when_flushed_);
    return;
  }
  write(std::move(batch));
}

void Connection::on_write(const boost::system::error_code& ec, size_t) {
  write_in_flight_ = false;
  if (closed_) return;
  if (ec) {
    close("write failed: " + ec.message());
    return;
  }
  last_write_ = Clock::now();
  if (up_) {
    flush();
  } else if (close_when_flushed_) {
    close(*close_when_flushed_);
  }
}

void Connection::close_after_flush(const std::string& reason) {
  if (closed_) return;
  close_when_flushed_ = reason;
  if (write_in_flight_) return;  // on_write closes
  if (up_) {
    flush();
  } else {
    close(reason);
  }
}

void Connection::close(const std::string& reason) {
  if (closed_) return;
  closed_ = true;
  if (up_) {
    // No sender may write to the socket from now on (its number may be reused).
    std::lock_guard<std::mutex> lock(peer_->mu);
    if (peer_->write_fd == socket_.native_handle()) peer_->write_fd = -1;
  }
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  node_.on_closed(*this, reason);
}

}  // namespace plexus::detail

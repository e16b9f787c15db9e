#include "connection.h"

#include "peer.h"

namespace plexus::detail {

namespace {
// A read takes at most this much: the reader's buffer grows with what arrives.
constexpr size_t kReadChunk = 64 * 1024;
}  // namespace

Connection::Connection(ConnectionHost& host, Backend& backend, Handshake handshake, Peer* peer)
    : backend_(backend),
      host_(host),
      handshake_(std::move(handshake)),
      peer_(peer),
      reader_(kHandshakeFrameLimit),
      started_(backend.now()),
      last_read_(started_),
      last_write_(started_) {}

void Connection::start() {
  // The handshake must be done in time, whatever the peer sends (or not).
  backend_.post_after(host_.handshake_timeout(),
                      [weak = std::weak_ptr<Connection>(shared_from_this())] {
                        auto self = weak.lock();
                        if (self && !self->up_ && !self->closed_)
                          self->close("handshake timed out");
                      });
  open_stream();
}

void Connection::stream_ready() {
  if (closed_) return;
  std::string out;
  handshake_.start(&out);
  if (!out.empty()) write(std::move(out));
  read_more();
}

void Connection::read_more() {
  size_t available = 0;
  uint8_t* space = reader_.space(kReadChunk, &available);
  read_some(space, available);
}

void Connection::on_read(size_t n, const std::string& error) {
  if (closed_) return;
  if (!error.empty()) {
    close(error);
    return;
  }
  last_read_ = backend_.now();
  reader_.commit(n);
  uint64_t frames = 0;
  for (;;) {
    std::string_view bytes;
    FrameReader::Next next = reader_.next(&bytes);
    if (next == FrameReader::Next::kNeedMore) break;
    if (up_) ++frames;
    if (next == FrameReader::Next::kTooLarge) {
      close("frame of " + std::to_string(reader_.announced()) + " bytes is above the limit of " +
            std::to_string(reader_.max_frame_size()) + (up_ ? "" : " before the handshake"));
      return;
    }
    if (!on_frame(bytes)) return;
  }
  if (up_) {
    // Once per read, not per frame: the peer's lock is the senders' too.
    MutexLock lock(peer_->mu);
    peer_->frames_in += frames;
    peer_->bytes_in += n;
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
    if (!host_.on_frame(*this, frame_, &error)) {
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
    if (!host_.on_up(shared_from_this())) {
      close("lost a simultaneous connect to " + handshake_.peer_name());
      return false;
    }
    up_ = true;
    reader_.set_max_frame_size(host_.max_frame_size());
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
  write_all(writing_);
}

void Connection::flush() {
  if (closed_ || write_in_flight_ || !up_) return;
  std::string batch;
  std::vector<Pid> drained;
  {
    MutexLock lock(peer_->mu);
    OutQueue& out = peer_->out;
    out.flush_posted = false;
    if (out.empty()) {
      // Idle: until we take the queue again, senders may write to the socket
      // themselves. (A close waits for this, the last flush.)
      if (!close_when_flushed_ && direct_fd() >= 0) out.open_direct(direct_fd());
    } else {
      batch = out.take(std::move(writing_));
      drained = peer_->take_suspended();
    }
  }
  if (!drained.empty()) host_.drained(std::move(drained));
  if (!batch.empty()) {
    write(std::move(batch));
  } else if (close_when_flushed_) {
    close(*close_when_flushed_);
  }
}

void Connection::on_write(const std::string& error) {
  write_in_flight_ = false;
  if (closed_) return;
  if (!error.empty()) {
    close("write failed: " + error);
    return;
  }
  last_write_ = backend_.now();
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
  if (up_ && direct_fd() >= 0) {
    // No sender may write to the socket from now on (its number may be reused).
    MutexLock lock(peer_->mu);
    peer_->out.close_direct_to(direct_fd());
  }
  close_stream();
  host_.on_closed(*this, reason);
}

}  // namespace plexus::detail

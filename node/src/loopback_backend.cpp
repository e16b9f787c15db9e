#include "loopback_backend.h"

#include <algorithm>
#include <cstring>
#include <utility>

#include "loopback_network.h"
#include "peer.h"
#include "plexus/spi/distribution.h"

namespace plexus::detail {

namespace {
// Loopback time is virtual milliseconds on the steady clock's scale.
Backend::Clock::time_point at_ms(int64_t ms) {
  return Backend::Clock::time_point(std::chrono::milliseconds(ms));
}
int64_t ms_of(Backend::Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
}
}  // namespace

// ---------------------------------------------------------------- backend

LoopbackBackend::LoopbackBackend(LoopbackNetwork& network, Runtime& runtime)
    : network_(*network.impl_), runtime_(runtime) {}

uint64_t LoopbackBackend::creation_for(LoopbackNetwork& network) {
  return network.impl_->next_creation();
}

LoopbackBackend::~LoopbackBackend() {
  if (joined_) network_.leave(this);
}

Result<NodeAddress> LoopbackBackend::listen(const NodeAddress& address) {
  Result<std::string> name = network_.join(this, address.name());
  if (!name.ok()) return name.status();
  joined_ = true;
  name_ = *name;
  return parse_node_name(name_);
}

void LoopbackBackend::start(ConnectionHost& host) { host_ = &host; }

void LoopbackBackend::stop(std::function<void()> close_connections) {
  if (!joined_) return;
  stopping_ = true;
  // Closing writes what is queued and tells the peers; let that happen.
  post(std::move(close_connections));
  network_.run_until_idle(SIZE_MAX);
  network_.leave(this);
  joined_ = false;
}

void LoopbackBackend::post(std::function<void()> fn) { network_.post(this, std::move(fn)); }

void LoopbackBackend::post_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  network_.post_after(this, delay.count(), std::move(fn));
}

Backend::Clock::time_point LoopbackBackend::now() const { return at_ms(network_.now_ms()); }

// A process's turn counts as the loop too, however the runtime was stepped:
// nothing that runs in one may wait (the network would be stepped inside it).
bool LoopbackBackend::on_loop() const { return network_.stepping() || spi::in_turn(); }

void LoopbackBackend::run_on_loop(std::function<void()> fn) {
  post(std::move(fn));
  network_.run_until_idle(SIZE_MAX);
}

bool LoopbackBackend::wait(Mutex& mu, CondVar&, Clock::time_point deadline) {
  // Nothing else runs the network: the wait steps it, without the lock
  // (what runs takes it).
  mu.unlock();
  bool stepped = network_.step_for_wait(ms_of(deadline));
  mu.lock();
  return stepped;
}

void LoopbackBackend::connect(Peer& peer, std::chrono::milliseconds) {
  LoopbackBackend* target = network_.find(peer.address.name());
  if (!target || !target->steppable() || network_.is_cut(name_, target->name_)) {
    post([this, &peer] { host_->outgoing_failed(peer, "connection refused"); });
    return;
  }
  auto ours = std::make_shared<LoopbackConnection>(*this, host_->connecting_handshake(peer.name),
                                                   &peer, target->name_);
  auto theirs = std::make_shared<LoopbackConnection>(*target, target->host_->accepting_handshake(),
                                                     nullptr, name_);
  ours->pair_with(theirs);
  theirs->pair_with(ours);
  network_.track(name_, target->name_, ours, theirs);
  post([this, ours] { host_->adopt(ours); });
  target->post([target, theirs] { target->host_->adopt(theirs); });
}

// ---------------------------------------------------------------- connection

LoopbackConnection::LoopbackConnection(LoopbackBackend& backend, Handshake handshake, Peer* peer,
                                       std::string remote)
    : Connection(backend.host(), backend, std::move(handshake), peer),
      loopback_(backend),
      remote_(std::move(remote)) {}

void LoopbackConnection::read_some(uint8_t* into, size_t size) {
  read_into_ = into;
  read_size_ = size;
  if (!arrived_.empty() || ended_) {
    // Not from inside the read that asked: as a task of its own.
    loopback_.post([self = std::static_pointer_cast<LoopbackConnection>(shared_from_this())] {
      self->complete_read();
    });
  }
}

void LoopbackConnection::complete_read() {
  if (!read_into_ || is_closed()) return;
  if (!arrived_.empty()) {
    size_t n = std::min(read_size_, arrived_.size());
    std::memcpy(read_into_, arrived_.data(), n);
    arrived_.erase(0, n);
    read_into_ = nullptr;
    on_read(n, "");
  } else if (ended_) {
    read_into_ = nullptr;
    on_read(0, "connection closed by peer");
  }
}

void LoopbackConnection::receive(const std::string& bytes) {
  arrived_ += bytes;
  complete_read();
}

void LoopbackConnection::receive_end() {
  ended_ = true;
  complete_read();
}

bool LoopbackConnection::holding() const {
  return !held_.empty() || held_end_ || loopback_.network().is_muted(loopback_.name(), remote_);
}

bool LoopbackConnection::transmit(const std::shared_ptr<LoopbackConnection>& other,
                                  const std::string& bytes) {
  LoopbackNetworkImpl::Delivery d = loopback_.network().deliver(bytes);
  if (d.reset) {
    // Lost with the connection: each side closes as its own node's work.
    auto self = std::static_pointer_cast<LoopbackConnection>(shared_from_this());
    loopback_.post([self] { self->close("connection reset by the network"); });
    other->loopback_.post([other] { other->close("connection reset by the network"); });
    return false;
  }
  carry(other, d.delay_ms, [other, copy = std::move(d.bytes)] { other->receive(copy); });
  return true;
}

void LoopbackConnection::carry(const std::shared_ptr<LoopbackConnection>& other, int64_t delay_ms,
                               std::function<void()> arrive) {
  // With delays on, or a delayed write still on its way, it goes through
  // the timers, which keep equal times in posting order.
  if (!loopback_.network().delays() && other->timed_toward_ == 0) {
    other->loopback_.post(std::move(arrive));
    return;
  }
  int64_t now = loopback_.network().now_ms();
  arrives_at_ = std::max(arrives_at_, now + delay_ms);
  ++other->timed_toward_;
  other->loopback_.post_after(std::chrono::milliseconds(arrives_at_ - now),
                              [other, arrive = std::move(arrive)] {
                                --other->timed_toward_;
                                arrive();
                              });
}

void LoopbackConnection::write_all(const std::string& bytes) {
  auto self = std::static_pointer_cast<LoopbackConnection>(shared_from_this());
  if (auto other = other_.lock()) {
    if (holding()) {
      // Taken by the sender's stack, as TCP takes it, and kept until unmute.
      held_ += bytes;
      loopback_.network().hold(self);
    } else if (!transmit(other, bytes)) {
      return;
    }
  } else if (!is_closed() && !loopback_.network().is_muted(loopback_.name(), remote_) &&
             !loopback_.network().is_muted(remote_, loopback_.name())) {
    // The other side is gone and its close never came (it was held when
    // its node crashed): its host answers with a reset, as a kernel
    // answers a segment for a socket it no longer has.
    loopback_.post([self] { self->close("connection reset by peer"); });
    return;
  }
  loopback_.post([self] { self->on_write(""); });
}

void LoopbackConnection::close_stream() {
  if (auto other = other_.lock()) {
    if (holding()) {
      held_end_ = true;  // other_ stays, for release()
      loopback_.network().hold(std::static_pointer_cast<LoopbackConnection>(shared_from_this()));
      return;
    }
    carry(other, 0, [other] { other->receive_end(); });
  }
  other_.reset();
}

void LoopbackConnection::release() {
  std::shared_ptr<LoopbackConnection> other = other_.lock();
  std::string bytes = std::exchange(held_, std::string());
  if (other && !bytes.empty() && !transmit(other, bytes)) other.reset();
  if (std::exchange(held_end_, false)) {
    if (other) carry(other, 0, [other] { other->receive_end(); });
    other_.reset();
  }
}

}  // namespace plexus::detail

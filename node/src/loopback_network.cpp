#include "loopback_network.h"

#include <algorithm>

#include "frame_codec.h"
#include "loopback_backend.h"
#include "node_name.h"
#include "plexus/node/loopback.h"
#include "plexus/spi/distribution.h"

namespace plexus {
namespace detail {

// ---------------------------------------------------------------- nodes

Result<std::string> LoopbackNetworkImpl::join(LoopbackBackend* node, const std::string& name) {
  Result<NodeAddress> address = parse_node_name(name, /*allow_port_zero=*/true);
  if (!address.ok()) return address.status();
  if (address->port == 0) {
    do {
      address->port = next_port_++;
    } while (by_name_.count(address->name()));
  }
  std::string bound = address->name();
  if (!by_name_.emplace(bound, node).second) {
    return Status(StatusCode::kInvalidArgument, "cannot listen on " + bound + ": in use");
  }
  nodes_.push_back(node);
  return bound;
}

void LoopbackNetworkImpl::leave(LoopbackBackend* node) {
  std::erase(nodes_, node);
  std::erase_if(by_name_, [&](const auto& entry) { return entry.second == node; });
  std::erase_if(tasks_, [&](const Task& t) { return t.owner == node; });
  std::erase_if(timers_, [&](const auto& entry) { return entry.second.owner == node; });
  std::erase_if(holding_, [&](const auto& conn) { return &conn->backend() == node; });
}

LoopbackBackend* LoopbackNetworkImpl::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

// ---------------------------------------------------------------- work

void LoopbackNetworkImpl::post(LoopbackBackend* owner, std::function<void()> fn) {
  tasks_.push_back(Task{owner, std::move(fn)});
}

void LoopbackNetworkImpl::post_after(LoopbackBackend* owner, int64_t delay_ms,
                                     std::function<void()> fn) {
  timers_.emplace(now_ms_ + std::max<int64_t>(delay_ms, 0), Task{owner, std::move(fn)});
}

size_t LoopbackNetworkImpl::run_until_idle(size_t max_steps) {
  ++stepping_;
  size_t steps = 0;
  for (bool progress = true; progress && steps < max_steps;) {
    progress = false;
    // Every node's runnable processes, in the order the nodes joined; then
    // the transport's work, in the order it was posted.
    for (size_t i = 0; i < nodes_.size() && steps < max_steps; ++i) {
      LoopbackBackend* node = nodes_[i];
      while (steps < max_steps && node->steppable() && node->runtime().step()) {
        ++steps;
        progress = true;
      }
    }
    while (steps < max_steps && !tasks_.empty()) {
      Task task = std::move(tasks_.front());
      tasks_.pop_front();
      task.fn();
      ++steps;
      progress = true;
    }
  }
  --stepping_;
  return steps;
}

std::optional<int64_t> LoopbackNetworkImpl::next_event() const {
  std::optional<int64_t> next;
  if (!timers_.empty()) next = timers_.begin()->first;
  for (LoopbackBackend* node : nodes_) {
    if (!node->steppable()) continue;
    std::optional<int64_t> at = spi::next_timer_ms(node->runtime());
    if (!at) continue;
    // The runtimes' clocks move with the network's, from where each started.
    int64_t in_network_time = now_ms_ + std::max<int64_t>(*at - node->runtime().now_ms(), 0);
    if (!next || in_network_time < *next) next = in_network_time;
  }
  return next;
}

void LoopbackNetworkImpl::move_to(int64_t t) {
  int64_t delta = std::max<int64_t>(t - now_ms_, 0);
  now_ms_ += delta;
  // Every runtime's clock moves with the network's. With no time to move, a
  // timer wheel still processes its ticks up to now: a runtime's next timer
  // may be a cascade point of its wheel, due now.
  for (LoopbackBackend* node : nodes_) {
    if (node->steppable()) node->runtime().advance_time(std::chrono::milliseconds(delta));
  }
  while (!timers_.empty() && timers_.begin()->first <= now_ms_) {
    tasks_.push_back(std::move(timers_.begin()->second));
    timers_.erase(timers_.begin());
  }
}

void LoopbackNetworkImpl::advance(int64_t by_ms) {
  int64_t target = now_ms_ + std::max<int64_t>(by_ms, 0);
  for (;;) {
    run_until_idle(SIZE_MAX);
    std::optional<int64_t> next = next_event();
    if (!next || *next > target) break;
    move_to(*next);
  }
  move_to(target);
  run_until_idle(SIZE_MAX);
}

bool LoopbackNetworkImpl::run_until(const std::function<bool()>& done, int64_t timeout_ms) {
  int64_t deadline = now_ms_ + std::max<int64_t>(timeout_ms, 0);
  for (;;) {
    run_until_idle(SIZE_MAX);
    if (done()) return true;
    std::optional<int64_t> next = next_event();
    if (!next || *next > deadline) break;
    move_to(*next);
  }
  move_to(deadline);
  run_until_idle(SIZE_MAX);
  return done();
}

bool LoopbackNetworkImpl::step_for_wait(int64_t deadline_ms) {
  if (run_until_idle(SIZE_MAX) > 0) return true;
  std::optional<int64_t> next = next_event();
  if (!next || *next > deadline_ms) {
    move_to(std::max(deadline_ms, now_ms_));
    return false;
  }
  move_to(*next);
  return true;
}

// ---------------------------------------------------------------- faults

void LoopbackNetworkImpl::track(const std::string& a, const std::string& b,
                                std::weak_ptr<LoopbackConnection> at_a,
                                std::weak_ptr<LoopbackConnection> at_b) {
  std::erase_if(links_, [](const Link& l) { return l.at_a.expired() && l.at_b.expired(); });
  links_.push_back(Link{a, b, std::move(at_a), std::move(at_b)});
}

bool LoopbackNetworkImpl::is_cut(const std::string& a, const std::string& b) const {
  return cuts_.count(ordered(a, b)) > 0;
}

void LoopbackNetworkImpl::cut(const std::string& a, const std::string& b) {
  cuts_.insert(ordered(a, b));
  // Each side closes as its own node's work.
  auto close = [this](const std::weak_ptr<LoopbackConnection>& side, const std::string& owner) {
    std::shared_ptr<LoopbackConnection> conn = side.lock();
    LoopbackBackend* node = find(owner);
    if (conn && node) node->post([conn] { conn->close("connection cut by the network"); });
  };
  for (const Link& link : links_) {
    if (ordered(link.a, link.b) != ordered(a, b)) continue;
    close(link.at_a, link.a);
    close(link.at_b, link.b);
  }
}

void LoopbackNetworkImpl::heal(const std::string& a, const std::string& b) {
  cuts_.erase(ordered(a, b));
}

void LoopbackNetworkImpl::hold(std::shared_ptr<LoopbackConnection> writer) {
  if (std::find(holding_.begin(), holding_.end(), writer) == holding_.end())
    holding_.push_back(std::move(writer));
}

void LoopbackNetworkImpl::unmute(const std::string& from, const std::string& to) {
  mutes_.erase({from, to});
  std::vector<std::shared_ptr<LoopbackConnection>> released;
  std::erase_if(holding_, [&](const std::shared_ptr<LoopbackConnection>& conn) {
    if (conn->backend().name() != from || conn->remote_address() != to) return false;
    released.push_back(conn);
    return true;
  });
  for (const auto& conn : released) conn->release();
}

void LoopbackNetworkImpl::set_faults(const LoopbackFaults& faults) {
  faults_ = faults;
  random_state_ = faults.seed;
}

namespace {

// splitmix64's next value of `state`.
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

double LoopbackNetworkImpl::draw() {
  return static_cast<double>(splitmix64(random_state_) >> 11) * 0x1.0p-53;
}

uint64_t LoopbackNetworkImpl::next_creation() {
  for (;;) {
    if (uint64_t c = splitmix64(creations_); c != 0) return c;
  }
}

LoopbackNetworkImpl::Delivery LoopbackNetworkImpl::deliver(const std::string& bytes) {
  Delivery d;
  if (faults_.reset > 0 && draw() < faults_.reset) {
    d.reset = true;
    return d;
  }
  int64_t lo = faults_.min_delay.count(), hi = std::max(lo, faults_.max_delay.count());
  d.delay_ms = lo + static_cast<int64_t>(draw() * static_cast<double>(hi - lo + 1));
  d.delay_ms = std::min(d.delay_ms, hi);
  if (faults_.duplicate <= 0) {
    d.bytes = bytes;
    return d;
  }
  // Whole frames, each a 4-byte big-endian length and a wire::Frame.
  size_t at = 0;
  while (at + kFrameHeaderSize <= bytes.size()) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + at);
    size_t length = size_t{p[0]} << 24 | size_t{p[1]} << 16 | size_t{p[2]} << 8 | p[3];
    size_t end = std::min(bytes.size(), at + kFrameHeaderSize + length);
    std::string_view frame(bytes.data() + at, end - at);
    d.bytes.append(frame);
    wire::Frame parsed;
    if (draw() < faults_.duplicate &&
        parsed.ParseFromArray(frame.data() + kFrameHeaderSize,
                              static_cast<int>(frame.size() - kFrameHeaderSize)) &&
        parsed.has_send() && parsed.send().kind() == wire::Send::MESSAGE &&
        parsed.send().type_name().empty()) {  // a type's first use numbers it
      d.bytes.append(frame);
    }
    at = end;
  }
  d.bytes.append(bytes, at, std::string::npos);
  return d;
}

}  // namespace detail

// ---------------------------------------------------------------- LoopbackNetwork

LoopbackNetwork::LoopbackNetwork() : impl_(std::make_unique<detail::LoopbackNetworkImpl>()) {}
LoopbackNetwork::~LoopbackNetwork() = default;

size_t LoopbackNetwork::run_until_idle(size_t max_steps) {
  return impl_->run_until_idle(max_steps);
}
void LoopbackNetwork::advance(std::chrono::milliseconds by) { impl_->advance(by.count()); }
bool LoopbackNetwork::run_until(const std::function<bool()>& done,
                                std::chrono::milliseconds timeout) {
  return impl_->run_until(done, timeout.count());
}
int64_t LoopbackNetwork::now_ms() const { return impl_->now_ms(); }
void LoopbackNetwork::cut(const std::string& a, const std::string& b) { impl_->cut(a, b); }
void LoopbackNetwork::heal(const std::string& a, const std::string& b) { impl_->heal(a, b); }
void LoopbackNetwork::mute(const std::string& from, const std::string& to) {
  impl_->mute(from, to);
}
void LoopbackNetwork::unmute(const std::string& from, const std::string& to) {
  impl_->unmute(from, to);
}
void LoopbackNetwork::set_faults(const LoopbackFaults& faults) { impl_->set_faults(faults); }

}  // namespace plexus

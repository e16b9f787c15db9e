#include "membership.h"

#include <algorithm>

#include "cross_node_tables.h"
#include "plexus/node/events.h"
#include "plexus/spi/distribution.h"

namespace plexus::detail {

// ---------------------------------------------------------------- connecting

void Membership::connect_async(Peer& peer) {
  MutexLock lock(peer.mu);
  if (peer.up || peer.connecting || stopping_) return;
  outbound_.dial(peer);
}

Handshake Membership::connecting_handshake(const std::string& peer_name) {
  return Handshake::connect(
      Handshake::Identity{self_.name, self_.creation, self_.cookie, self_.hidden}, peer_name);
}

Handshake Membership::accepting_handshake() {
  return Handshake::accept(
      Handshake::Identity{self_.name, self_.creation, self_.cookie, self_.hidden},
      [this](const std::string& peer, uint64_t c) { return admit(peer, c); });
}

void Membership::adopt(std::shared_ptr<Connection> conn) {
  connections_.emplace(conn.get(), conn);
  if (conn->handshake().role() == Handshake::Role::kAccept) {
    if (!make_room_for(*conn)) {
      conn->close("refused: too many pending handshakes from " + conn->remote_host());
      return;
    }
    pending_at_.emplace(conn.get(), pending_in_.insert(pending_in_.end(), conn.get()));
    ++pending_per_host_[conn->remote_host()];
  }
  conn->start();
}

bool Membership::make_room_for(const Connection& conn) {
  const std::string host = conn.remote_host();
  auto count_of = [&](const std::string& h) {
    auto it = pending_per_host_.find(h);
    return it == pending_per_host_.end() ? size_t{0} : it->second;
  };
  for (;;) {
    bool host_full = count_of(host) >= options_.max_pending_handshakes_per_host;
    bool all_full = pending_in_.size() >= options_.max_pending_handshakes;
    if (!host_full && !all_full) return true;
    // The oldest that has not said Hello (from that host, if that host is
    // what is full) makes room; one that has is left to finish.
    Connection* victim = nullptr;
    for (Connection* c : pending_in_) {
      if (c->handshake().introduced()) continue;
      if (host_full && c->remote_host() != host) continue;
      victim = c;
      break;
    }
    if (!victim) return false;
    log(LogLevel::kDebug, [&] {
      return "connection " + victim->remote_address() +
             " closed to make room: too many pending handshakes";
    });
    victim->close("too many pending handshakes");  // pending_done via on_closed
  }
}

void Membership::pending_done(const Connection& conn) {
  auto it = pending_at_.find(&conn);
  if (it == pending_at_.end()) return;
  pending_in_.erase(it->second);
  pending_at_.erase(it);
  auto count = pending_per_host_.find(conn.remote_host());
  if (count != pending_per_host_.end() && --count->second == 0) pending_per_host_.erase(count);
}

void Membership::outgoing_failed(Peer& peer, const std::string& reason) {
  connect_failed(peer, reason, LogLevel::kInfo);
}

void Membership::connect_failed(Peer& peer, const std::string& reason, LogLevel level) {
  bool idle;
  uint64_t in_a_row;
  {
    MutexLock lock(peer.mu);
    peer.connecting = false;
    idle = !peer.up;
    in_a_row = ++peer.failures_in_a_row;
  }
  counters_.connect_failures.fetch_add(1, std::memory_order_relaxed);
  idle = idle && accepting(peer.name) == 0;
  // A seed that is not there yet is retried every tick: say so the 1st,
  // 2nd, 4th, 8th... time, not every time.
  if ((in_a_row & (in_a_row - 1)) == 0) {
    log(level, "connect to " + peer.name + " failed: " + reason +
                   (in_a_row == 1
                        ? ""
                        : " (" + std::to_string(in_a_row) + " attempts in a row; next logged at " +
                              std::to_string(2 * in_a_row) + ")"));
  }
  if (idle) lose(peer, "connect failed: " + reason, /*was_up=*/false);
}

void Membership::accept_failed(const std::string& reason) {
  log(LogLevel::kWarning, "accept failed: " + reason);
}

void Membership::awaiting_winner(Peer& peer) {
  {
    MutexLock lock(peer.mu);
    peer.connecting = false;
  }
  backend_.post_after(options_.connect_timeout, [this, &peer] {
    bool idle;
    {
      MutexLock lock(peer.mu);
      idle = !peer.up && !peer.connecting;
    }
    idle = idle && accepting(peer.name) == 0;
    if (idle) lose(peer, "the connection from " + peer.name + " never came up", false);
  });
}

Status Membership::connect_blocking(const std::string& node_name) {
  if (node_name == self_.name) return Status::OK();
  if (backend_.on_loop()) {
    return Status(StatusCode::kInvalidArgument, "connect() cannot wait on the transport thread");
  }
  Peer* peer = peers_.get(node_name);
  if (!peer) return Status(StatusCode::kInvalidArgument, "bad node name '" + node_name + "'");
  uint64_t failed_before;
  {
    MutexLock lock(peer->mu);
    if (peer->up) return Status::OK();
    failed_before = peer->attempts_failed;
  }
  connect_async(*peer);
  spi::before_blocking();
  MutexLock lock(peer->mu);
  auto deadline = backend_.now() + options_.connect_timeout + std::chrono::seconds(1);
  bool settled = true;
  while (!peer->up && peer->attempts_failed == failed_before) {
    if (!backend_.wait(peer->mu, peer->changed, deadline)) {
      settled = peer->up || peer->attempts_failed != failed_before;
      break;
    }
  }
  if (peer->up) return Status::OK();
  if (!settled) return Status(StatusCode::kTimeout, "connect to " + node_name + " timed out");
  return Status(StatusCode::kUnavailable,
                "cannot connect to " + node_name + ": " + peer->last_error);
}

void Membership::disconnect(const std::string& node_name) {
  Peer* peer = peers_.get(node_name);
  if (!peer) return;
  auto close = [this, peer] {
    std::shared_ptr<Connection> conn;
    {
      MutexLock lock(peer->mu);
      conn = peer->up;
    }
    if (conn) conn->close("disconnected by " + self_.name);
  };
  if (stopping_) return;  // every connection is closing anyway
  if (backend_.on_loop()) {
    close();
    return;
  }
  spi::before_blocking();
  backend_.run_on_loop(close);
}

// ---------------------------------------------------------------- up

int Membership::accepting(const std::string& name) const {
  auto it = accepting_.find(name);
  return it == accepting_.end() ? 0 : it->second;
}

void Membership::block(const std::vector<std::string>& peers) {
  {
    MutexLock lock(blocked_mu_);
    blocked_.insert(peers.begin(), peers.end());
  }
  for (const std::string& p : peers) disconnect(p);
}

void Membership::unblock(const std::vector<std::string>& peers) {
  MutexLock lock(blocked_mu_);
  if (peers.empty()) {
    blocked_.clear();
  } else {
    for (const std::string& p : peers) blocked_.erase(p);
  }
}

std::vector<std::string> Membership::blocked() const {
  MutexLock lock(blocked_mu_);
  return std::vector<std::string>(blocked_.begin(), blocked_.end());
}

bool Membership::is_blocked(const std::string& peer) const {
  MutexLock lock(blocked_mu_);
  return blocked_.count(peer) > 0;
}

wire::HelloReply::Status Membership::admit(const std::string& peer_name, uint64_t peer_creation) {
  if (is_blocked(peer_name)) return wire::HelloReply::NOT_ALLOWED;
  // The peer has proved nothing yet: look, but make no Peer for it.
  if (Peer* peer = peers_.find(peer_name)) {
    MutexLock lock(peer->mu);
    if (peer->up && peer->creation == peer_creation) return wire::HelloReply::ALREADY_CONNECTED;
    // Both sides connecting at once: the connection made by the node with the
    // smaller name wins, on both sides.
    if (peer->connecting && self_.name < peer_name) return wire::HelloReply::ALREADY_CONNECTED;
  }
  ++accepting_[peer_name];
  return wire::HelloReply::OK;
}

void Membership::admitted_done(const std::string& peer_name) {
  auto it = accepting_.find(peer_name);
  if (it != accepting_.end() && --it->second == 0) accepting_.erase(it);
}

bool Membership::on_up(const std::shared_ptr<Connection>& conn) {
  const std::string& peer_name = conn->handshake().peer_name();
  uint64_t peer_creation = conn->handshake().peer_creation();
  // The peer proved the cookie: from now on it has a Peer. (On `false` the
  // connection closes, and on_closed settles its count.)
  Peer* peer = peers_.get(peer_name);
  if (!peer) return false;
  if (is_blocked(peer_name)) {
    log(LogLevel::kInfo, "refusing " + peer_name + ": blocked");
    return false;
  }
  std::shared_ptr<Connection> replaced;
  CrossNodeTables lost;
  uint64_t failed_before = 0;
  {
    // On `false` the connection closes, and on_closed settles the counts.
    MutexLock lock(peer->mu);
    if (peer->up && !peer->up->is_closed()) {
      if (peer->creation == peer_creation) return false;  // lost a race: one is up already
      replaced = peer->up;                                // a new incarnation replaces the old one
    }
    std::string why;
    uint32_t index =
        table_.intern(peer_name, peer_creation, peer, NodeTable::Use::kConnected, &why);
    if (index == 0) {
      log(LogLevel::kError, "refusing " + peer_name + ": " + why);
      return false;
    }
    if (conn->handshake().role() == Handshake::Role::kConnect) {
      peer->connecting = false;
    } else {
      admitted_done(peer_name);
      pending_done(*conn);
    }
    // What was queued or tied for another incarnation is lost with it.
    // (Creation 0: only frames for any incarnation were queued, such as a
    // send to a registered name or a spawn request; they go out.) What was
    // queued while connecting goes out first on this connection, with the
    // type numbers it was encoded with.
    if (peer->creation != 0 && peer->creation != peer_creation) {
      lost = peer->forget_incarnation();
      table_.retire(peer_name, peer->creation);  // its slot goes to others in time
    }
    peer->creation = peer_creation;
    peer->hidden = conn->handshake().peer_hidden();
    peer->index = index;
    peer->up = conn;
    peer->out.closing = false;
    peer->out.close_direct();  // the new connection's first flush opens it
    peer->out.reset_counters();
    peer->frames_in = peer->bytes_in = 0;
    failed_before = std::exchange(peer->failures_in_a_row, 0);
    conn->attach(peer, index);
    peer->changed.notify_all();
  }
  peers_.came_up(*peer);
  if (replaced) replaced->close("replaced by a new incarnation of " + peer_name);
  if (!lost.empty()) fire(runtime_, std::move(lost), "node " + peer_name + " restarted");
  bool hidden = conn->handshake().peer_hidden();
  counters_.nodes_up.fetch_add(1, std::memory_order_relaxed);
  log(LogLevel::kInfo,
      std::string(hidden ? "hidden node " : "node ") + peer_name + " up" +
          (failed_before > 1 ? " after " + std::to_string(failed_before) + " failed attempts"
                             : ""));
  // A hidden node (or this one, if hidden) joins no mesh: it is not told
  // the members, and subscribers are not told of it (Erlang's -hidden).
  if (!hidden && !self_.hidden) gossip(*peer);
  if (!hidden) notify_nodes(peer_name, true, "", {});
  return true;
}

void Membership::gossip(Peer& peer) {
  wire::Frame frame;
  frame.mutable_gossip();  // even with no members: a frame always has a body
  for (const std::string& n : peers_.connected()) {
    if (n != peer.name) frame.mutable_gossip()->add_members(n);
  }
  MutexLock lock(peer.mu);
  outbound_.queue_now(peer, frame);
}

bool Membership::on_frame(Connection& conn, const wire::Frame& frame, std::string* error) {
  switch (frame.body_case()) {
    case wire::Frame::kSend:
      return inbound_.on_send(conn, frame.send(), error);
    case wire::Frame::kSignal:
      return inbound_.on_signal(conn, frame.signal(), error);
    case wire::Frame::kSpawnRequest:
      spawn_.on_request(conn, frame.spawn_request());
      return true;
    case wire::Frame::kSpawnReply:
      spawn_.on_reply(conn, frame.spawn_reply());
      return true;
    case wire::Frame::kTick:
      return true;
    case wire::Frame::kGossip:
      if (self_.hidden) return true;  // a hidden node connects only where asked
      for (const std::string& member : frame.gossip().members()) {
        if (member == self_.name) continue;
        if (Peer* peer = peers_.get(member)) connect_async(*peer);
      }
      return true;
    default:
      *error = "unexpected frame (" + std::to_string(frame.body_case()) + ") after the handshake";
      return false;
  }
}

// ---------------------------------------------------------------- down

void Membership::on_closed(Connection& conn, const std::string& reason) {
  auto self = connections_.find(&conn);
  std::shared_ptr<Connection> keep;  // alive until we are done with it
  if (self != connections_.end()) {
    keep = self->second;
    connections_.erase(self);
  }
  if (stopping_ && connections_.empty()) backend_.end_loop();
  const Handshake& hs = conn.handshake();
  pending_done(conn);
  // An incoming connection admitted at its Hello that did not come up.
  if (!conn.is_up() && hs.role() == Handshake::Role::kAccept && !hs.peer_name().empty()) {
    admitted_done(hs.peer_name());
  }
  Peer* peer = conn.peer();
  if (!peer && !hs.peer_name().empty()) peer = peers_.find(hs.peer_name());
  if (!conn.is_up()) {
    if (!hs.refused_as_duplicate()) {
      counters_.handshake_failures.fetch_add(1, std::memory_order_relaxed);
    }
    // An outgoing attempt's failure is logged by outgoing_failed, with
    // backoff (it is retried every tick).
    bool retried = peer && hs.role() == Handshake::Role::kConnect && !hs.refused_as_duplicate();
    if (!retried) {
      LogLevel level = hs.refused_as_duplicate() ? LogLevel::kDebug : LogLevel::kWarning;
      // The name a Hello gave is said, proved or not.
      const std::string& name = peer ? peer->name : hs.peer_name();
      log(level, [&] {
        return "connection " + conn.remote_address() + (name.empty() ? "" : " (" + name + ")") +
               " closed during handshake: " + reason;
      });
    }
  }
  if (!peer) return;
  if (!conn.is_up() && hs.role() == Handshake::Role::kConnect) {
    if (hs.refused_as_duplicate()) {
      awaiting_winner(*peer);
    } else {
      connect_failed(*peer,
                     "connection " + conn.remote_address() + " closed during handshake: " + reason,
                     LogLevel::kWarning);
    }
    return;
  }
  bool was_current = false;
  bool idle = false;
  {
    MutexLock lock(peer->mu);
    if (conn.is_up()) {
      was_current = peer->up.get() == &conn;
      if (was_current) peer->up.reset();
    } else {
      idle = !peer->up && !peer->connecting;  // an admitted one failed its handshake
    }
  }
  if (conn.is_up()) {
    counters_.nodes_down.fetch_add(1, std::memory_order_relaxed);
    log(LogLevel::kInfo, "node " + peer->name + " down: " + reason);
    if (was_current) {
      lose(*peer, reason, /*was_up=*/true);
    } else {
      notify_nodes(peer->name, false, reason, {});  // an old incarnation, replaced
    }
  } else if (idle && accepting(peer->name) == 0) {
    lose(*peer, reason, /*was_up=*/false);
  }
}

void Membership::lose(Peer& peer, const std::string& reason, bool was_up) {
  CrossNodeTables tables;
  std::vector<Pid> watchers;
  std::vector<Pid> suspended;
  uint64_t creation = 0;
  bool hidden = false;
  {
    MutexLock lock(peer.mu);
    creation = peer.creation;
    hidden = peer.hidden;
    peer.hidden = false;
    tables = peer.forget_incarnation();
    suspended = peer.take_suspended();
    watchers.swap(peer.node_watchers);
    if (!was_up) ++peer.attempts_failed;
    peer.last_error = reason;
    peer.out.drained.notify_all();
    peer.changed.notify_all();
  }
  // Its slot stays while there is room: pids of it are answered noconnection.
  if (uint32_t number = was_up ? table_.went_down(peer.name, creation) : 0) {
    MutexLock lock(listeners_mu_);
    for (const auto& [id, fn] : listeners_) fn(number);
  }
  fire(runtime_, std::move(tables), "node " + peer.name + " down: " + reason);
  outbound_.resume_senders(std::move(suspended));  // what they send now is answered dead
  if (was_up && !hidden) {
    notify_nodes(peer.name, false, reason, std::move(watchers));
  } else {
    for (Pid w : watchers) (void)runtime_.send(w, NodeDown{peer.name, reason});
  }
}

void Membership::close_all() {
  stopping_ = true;
  auto conns = connections_;
  for (auto& [raw, conn] : conns) {
    if (conn->is_up()) {
      conn->close_after_flush("node stopped");
    } else {
      conn->close("node stopped");
    }
  }
  if (connections_.empty()) backend_.end_loop();
}

// ---------------------------------------------------------------- watchers

void Membership::notify_nodes(const std::string& node_name, bool up, const std::string& reason,
                              std::vector<Pid> watchers) {
  {
    MutexLock lock(subscribers_mu_);
    std::erase_if(subscribers_, [this](Pid p) { return !runtime_.alive(p); });
    watchers.insert(watchers.end(), subscribers_.begin(), subscribers_.end());
  }
  for (Pid w : watchers) {
    if (up) {
      (void)runtime_.send(w, NodeUp{node_name});
    } else {
      (void)runtime_.send(w, NodeDown{node_name, reason});
    }
  }
}

uint64_t Membership::add_down_listener(std::function<void(uint32_t)> fn) {
  MutexLock lock(listeners_mu_);
  listeners_.emplace(next_listener_, std::move(fn));
  return next_listener_++;
}

void Membership::remove_down_listener(uint64_t id) {
  MutexLock lock(listeners_mu_);
  listeners_.erase(id);
}

void Membership::subscribe(Pid pid) {
  MutexLock lock(subscribers_mu_);
  if (std::find(subscribers_.begin(), subscribers_.end(), pid) == subscribers_.end()) {
    subscribers_.push_back(pid);
  }
}

void Membership::unsubscribe(Pid pid) {
  MutexLock lock(subscribers_mu_);
  std::erase(subscribers_, pid);
}

void Membership::monitor_node(Pid watcher, const std::string& node_name) {
  if (node_name == self_.name) return;
  Peer* peer = peers_.get(node_name);
  if (!peer) {
    (void)runtime_.send(watcher, NodeDown{node_name, "bad node name"});
    return;
  }
  {
    MutexLock lock(peer->mu);
    peer->node_watchers.push_back(watcher);
    if (peer->up) return;
  }
  connect_async(*peer);
}

// ---------------------------------------------------------------- tick

void Membership::tick() {
  if (stopping_) return;
  auto interval = std::max(options_.tick_timeout / 4, std::chrono::milliseconds(10));
  auto now = backend_.now();
  // Every fourth tick each peer hears whom we are connected to, so that a
  // mesh torn by a partition heals; a gossip frame keeps the line alive too.
  bool gossip_now = ++gossip_round_ % 4 == 0;
  auto conns = connections_;
  for (auto& [raw, conn] : conns) {
    if (conn->is_closed()) continue;
    if (!conn->is_up()) continue;  // its own timer bounds its handshake
    if (now - conn->last_read() > options_.tick_timeout) {
      conn->close("tick timeout: nothing heard for " +
                  std::to_string(options_.tick_timeout.count()) + " ms");
      continue;
    }
    Peer& peer = *conn->peer();
    if (gossip_now && !self_.hidden && !conn->handshake().peer_hidden()) {
      gossip(peer);
      continue;
    }
    MutexLock lock(peer.mu);
    // A peer that took nothing of a full queue for a tick timeout is gone,
    // and so are the senders it holds.
    if (peer.out.full_since && now - *peer.out.full_since >= options_.tick_timeout) {
      outbound_.disconnect_full(
          peer, "send buffer stalled for " + std::to_string(options_.tick_timeout.count()) + " ms");
      continue;
    }
    auto last_write = std::max(conn->last_write(), peer.out.last_direct_write());
    if (now - last_write >= interval && peer.out.empty()) {
      wire::Frame frame;
      frame.mutable_tick();
      outbound_.queue_now(peer, frame);
    }
  }
  // Seeds are retried until they answer.
  std::vector<Peer*> seeds;
  peers_.for_each([&](Peer& peer) {
    MutexLock lock(peer.mu);
    if (peer.seed && !peer.up && !peer.connecting) seeds.push_back(&peer);
  });
  for (Peer* seed : seeds) connect_async(*seed);
  backend_.post_after(interval, [this] { tick(); });
}

}  // namespace plexus::detail

#include "plexus/node.h"

#include <sys/socket.h>

#include <fstream>
#include <future>

#include "node_impl.h"
#include "plexus/pid.pb.h"

namespace plexus {
namespace detail {

namespace asio = boost::asio;
using asio::ip::tcp;
using Clock = std::chrono::steady_clock;

namespace {

thread_local bool t_on_io_thread = false;

// The peers whose writes this thread's current turn put off (see kick).
struct TurnWrite {
  NodeImpl* node;
  Peer* peer;
};
thread_local std::vector<TurnWrite> t_turn_writes;

// Queued bytes above which a turn hands its writes to the I/O thread at once
// rather than writing them itself when it ends.
constexpr size_t kTurnWriteLimit = 64 * 1024;

uint64_t random_creation() {
  for (;;) {
    std::string bytes = random_bytes(8);
    uint64_t c = 0;
    for (unsigned char b : bytes) c = c << 8 | b;
    if (c != 0) return c;
  }
}

wire::Send::Kind send_kind(EnvelopeKind kind) {
  switch (kind) {
    case EnvelopeKind::kCall:
      return wire::Send::CALL;
    case EnvelopeKind::kReply:
      return wire::Send::REPLY;
    case EnvelopeKind::kCast:
      return wire::Send::CAST;
    default:
      return wire::Send::MESSAGE;
  }
}

EnvelopeKind envelope_kind(wire::Send::Kind kind) {
  switch (kind) {
    case wire::Send::CALL:
      return EnvelopeKind::kCall;
    case wire::Send::REPLY:
      return EnvelopeKind::kReply;
    case wire::Send::CAST:
      return EnvelopeKind::kCast;
    default:
      return EnvelopeKind::kMessage;
  }
}

// Serializes an envelope's payload straight into the output (PayloadWriter).
struct PayloadState {
  const WireType* type;
  Envelope* env;
};
uint8_t* write_payload(const void* state, uint8_t* to) {
  auto* s = static_cast<const PayloadState*>(state);
  return s->type->serialize(s->env, to);
}

}  // namespace

bool on_io_thread() { return t_on_io_thread; }

void TurnSends::flush_remote() {
  remote_pending = false;
  for (const TurnWrite& w : t_turn_writes) w.node->write_now(*w.peer);
  t_turn_writes.clear();
}

Node* node_of(Runtime& rt) {
  Distribution* d = rt.impl().distribution.load(std::memory_order_acquire);
  return d ? &static_cast<NodeImpl*>(d)->owner : nullptr;
}

// ---------------------------------------------------------------- lifecycle

NodeImpl::NodeImpl(Node& node, NodeOptions opts, NodeAddress address)
    : owner(node),
      options(std::move(opts)),
      name(address.name()),
      creation(random_creation()),
      runtime(std::make_unique<Runtime>(options.runtime)),
      acceptor_(io),
      tick_timer_(io),
      work_(asio::make_work_guard(io)) {}

NodeImpl::~NodeImpl() { stop(); }

Status NodeImpl::start() {
  Result<NodeAddress> address = parse_node_name(name, /*allow_port_zero=*/true);
  if (!address.ok()) return address.status();
  if (options.tls) {
    try {
      tls.emplace(asio::ssl::context::tls);
      tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
      tls->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
      tls->load_verify_file(options.tls->ca_file);
      tls->use_certificate_chain_file(options.tls->certificate_file);
      tls->use_private_key_file(options.tls->private_key_file, asio::ssl::context::pem);
    } catch (const boost::system::system_error& e) {
      return Status(StatusCode::kInvalidArgument, std::string("TLS setup failed: ") + e.what());
    }
  }
  boost::system::error_code ec;
  tcp::resolver resolver(io);
  auto endpoints = resolver.resolve(address->host, std::to_string(address->port), ec);
  if (ec || endpoints.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "cannot resolve " + address->host + ": " + ec.message());
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(StatusCode::kInvalidArgument, "cannot listen on " + address->host + ":" +
                                                    std::to_string(address->port) + ": " +
                                                    ec.message());
  }
  address->port = acceptor_.local_endpoint().port();
  name = address->name();

  for (const std::string& seed : options.seeds) {
    if (seed == name) continue;
    Peer* peer = peer_for(seed);
    if (!peer) return Status(StatusCode::kInvalidArgument, "bad seed node name '" + seed + "'");
    std::lock_guard<std::mutex> lock(peer->mu);
    peer->seed = true;
  }
  runtime->impl().distribution.store(this, std::memory_order_release);
  accept_next();
  tick();
  // protobuf builds its generated descriptor pool lazily, on the first use of
  // any descriptor (a type's name, an enum's name). Build it here, before
  // the transport thread can race a sending thread to it: libprotobuf guards
  // that with a once-flag of its own, which TSan cannot see.
  (void)wire::Frame::descriptor();
  io_thread_ = std::thread([this] {
    t_on_io_thread = true;
    io.run();
  });
  log(LogLevel::kInfo, "node " + name + " started (creation " + std::to_string(creation) + ")");
  return Status::OK();
}

void NodeImpl::stop() {
  if (stopped_) return;
  stopped_ = true;
  // Processes first, so that their exit signals reach the peers; then the
  // connections, each after writing what it has queued.
  runtime->shutdown();
  if (io_thread_.joinable()) {
    asio::post(io, [this] {
      boost::system::error_code ignored;
      acceptor_.close(ignored);
      tick_timer_.cancel();
      auto conns = connections_;
      for (auto& [raw, conn] : conns) {
        if (conn->is_up()) {
          conn->close_after_flush("node stopped");
        } else {
          conn->close("node stopped");
        }
      }
      if (connections_.empty()) io.stop();
    });
    // A peer that does not take our last bytes does not hold us up for long.
    auto deadline = std::make_shared<asio::steady_timer>(io, std::chrono::seconds(2));
    deadline->async_wait([this, deadline](const boost::system::error_code&) { io.stop(); });
    work_.reset();
    io_thread_.join();
  }
  runtime->impl().distribution.store(nullptr, std::memory_order_release);
  connections_.clear();
}

void NodeImpl::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of file descriptors, most likely: try again a little later.
      log(LogLevel::kWarning, "accept failed: " + ec.message());
      auto retry = std::make_shared<asio::steady_timer>(io, std::chrono::milliseconds(100));
      retry->async_wait([this, retry](const boost::system::error_code& e) {
        if (!e) accept_next();
      });
      return;
    }
    Handshake handshake =
        Handshake::accept(Handshake::Identity{name, creation, options.cookie},
                          [this](const std::string& peer, uint64_t c) { return admit(peer, c); });
    auto conn =
        std::make_shared<Connection>(*this, std::move(socket), std::move(handshake), nullptr);
    connections_.emplace(conn.get(), conn);
    conn->start();
    accept_next();
  });
}

void NodeImpl::tick() {
  auto interval = std::max(options.tick_timeout / 4, std::chrono::milliseconds(10));
  auto now = Clock::now();
  // Every fourth tick each peer hears whom we are connected to, so that a
  // mesh torn by a partition heals; a gossip frame keeps the line alive too.
  bool gossip_now = ++gossip_round_ % 4 == 0;
  auto conns = connections_;
  for (auto& [raw, conn] : conns) {
    if (conn->is_closed()) continue;
    if (!conn->is_up()) {
      if (now - conn->started() > options.connect_timeout) conn->close("handshake timed out");
      continue;
    }
    if (now - conn->last_read() > options.tick_timeout) {
      conn->close("tick timeout: nothing heard for " +
                  std::to_string(options.tick_timeout.count()) + " ms");
      continue;
    }
    Peer& peer = *conn->peer();
    if (gossip_now) {
      gossip(peer);
      continue;
    }
    std::lock_guard<std::mutex> lock(peer.mu);
    auto last_write = std::max(conn->last_write(), peer.last_direct_write);
    if (now - last_write >= interval && peer.out.empty()) {
      wire::Frame frame;
      frame.mutable_tick();
      queue_locked(peer, frame);
      kick(peer);
    }
  }
  // Seeds are retried until they answer.
  std::vector<Peer*> seeds;
  {
    std::lock_guard<std::mutex> lock(peers_mu_);
    for (auto& [n, peer] : peers_) {
      std::lock_guard<std::mutex> peer_lock(peer->mu);
      if (peer->seed && !peer->up && !peer->connecting) seeds.push_back(peer.get());
    }
  }
  for (Peer* seed : seeds) connect_async(*seed);
  tick_timer_.expires_after(interval);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) tick();
  });
}

// ---------------------------------------------------------------- peers

Peer* NodeImpl::peer_for(const std::string& node_name) {
  std::lock_guard<std::mutex> lock(peers_mu_);
  auto it = peers_.find(node_name);
  if (it != peers_.end()) return it->second.get();
  Result<NodeAddress> address = parse_node_name(node_name);
  if (!address.ok() || node_name == name) return nullptr;
  auto peer = std::make_unique<Peer>(node_name, *address);
  Peer* raw = peer.get();
  peers_.emplace(node_name, std::move(peer));
  return raw;
}

void NodeImpl::connect_async(Peer& peer) {
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    if (peer.up || peer.connecting || stopped_) return;
    peer.connecting = true;
  }
  asio::post(io, [this, &peer] { start_outgoing(peer); });
}

// One outgoing attempt: resolve, connect (bounded by connect_timeout), then
// the handshake on a Connection.
void NodeImpl::start_outgoing(Peer& peer) {
  struct Attempt {
    explicit Attempt(asio::io_context& io) : resolver(io), socket(io), timer(io) {}
    tcp::resolver resolver;
    tcp::socket socket;
    asio::steady_timer timer;
    bool timed_out = false;
  };
  auto attempt = std::make_shared<Attempt>(io);
  attempt->timer.expires_after(options.connect_timeout);
  attempt->timer.async_wait([attempt](const boost::system::error_code& ec) {
    if (ec) return;
    attempt->timed_out = true;
    attempt->resolver.cancel();
    boost::system::error_code ignored;
    attempt->socket.close(ignored);
  });
  attempt->resolver.async_resolve(
      peer.address.host, std::to_string(peer.address.port),
      [this, &peer, attempt](const boost::system::error_code& ec,
                             tcp::resolver::results_type results) {
        if (ec) {
          attempt->timer.cancel();
          outgoing_failed(peer, "cannot resolve " + peer.address.host + ": " + ec.message());
          return;
        }
        asio::async_connect(
            attempt->socket, results,
            [this, &peer, attempt](const boost::system::error_code& ec, const tcp::endpoint&) {
              attempt->timer.cancel();
              if (ec) {
                outgoing_failed(peer, attempt->timed_out ? "connect timed out" : ec.message());
                return;
              }
              Handshake handshake = Handshake::connect(
                  Handshake::Identity{name, creation, options.cookie}, peer.name);
              auto conn = std::make_shared<Connection>(*this, std::move(attempt->socket),
                                                       std::move(handshake), &peer);
              connections_.emplace(conn.get(), conn);
              conn->start();
            });
      });
}

void NodeImpl::outgoing_failed(Peer& peer, const std::string& reason) {
  bool idle;
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    peer.connecting = false;
    idle = !peer.up && peer.accepting == 0;
  }
  log(LogLevel::kInfo, "connect to " + peer.name + " failed: " + reason);
  if (idle) lose(peer, "connect failed: " + reason, /*was_up=*/false);
}

// Our connection lost a simultaneous-connect race: the peer's own connection
// to us wins and is on its way. Only if it has not come up within the connect
// timeout is the attempt a failure.
void NodeImpl::awaiting_winner(Peer& peer) {
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    peer.connecting = false;
  }
  auto timer = std::make_shared<asio::steady_timer>(io, options.connect_timeout);
  timer->async_wait([this, &peer, timer](const boost::system::error_code& ec) {
    if (ec) return;
    bool idle;
    {
      std::lock_guard<std::mutex> lock(peer.mu);
      idle = !peer.up && !peer.connecting && peer.accepting == 0;
    }
    if (idle) lose(peer, "the connection from " + peer.name + " never came up", false);
  });
}

Status NodeImpl::connect_blocking(const std::string& node_name) {
  if (node_name == name) return Status::OK();
  if (on_io_thread()) {
    return Status(StatusCode::kInvalidArgument, "connect() cannot wait on the transport thread");
  }
  Peer* peer = peer_for(node_name);
  if (!peer) return Status(StatusCode::kInvalidArgument, "bad node name '" + node_name + "'");
  uint64_t failed_before;
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    if (peer->up) return Status::OK();
    failed_before = peer->attempts_failed;
  }
  connect_async(*peer);
  TurnSends::before_blocking();
  std::unique_lock<std::mutex> lock(peer->mu);
  bool settled = peer->changed.wait_for(
      lock, options.connect_timeout + std::chrono::seconds(1),
      [&] { return peer->up != nullptr || peer->attempts_failed != failed_before; });
  if (peer->up) return Status::OK();
  if (!settled) return Status(StatusCode::kTimeout, "connect to " + node_name + " timed out");
  return Status(StatusCode::kUnavailable,
                "cannot connect to " + node_name + ": " + peer->last_error);
}

void NodeImpl::disconnect(const std::string& node_name) {
  Peer* peer = peer_for(node_name);
  if (!peer) return;
  auto close = [this, peer] {
    std::shared_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(peer->mu);
      conn = peer->up;
    }
    if (conn) conn->close("disconnected by " + name);
  };
  if (on_io_thread() || !io_thread_.joinable()) {
    close();
    return;
  }
  TurnSends::before_blocking();
  std::promise<void> done;
  asio::post(io, [&] {
    close();
    done.set_value();
  });
  done.get_future().wait();
}

std::vector<std::string> NodeImpl::connected_nodes() const {
  std::vector<std::string> out;
  std::lock_guard<std::mutex> lock(peers_mu_);
  for (const auto& [n, peer] : peers_) {
    std::lock_guard<std::mutex> peer_lock(peer->mu);
    if (peer->up) out.push_back(n);
  }
  return out;
}

wire::HelloReply::Status NodeImpl::admit(const std::string& peer_name, uint64_t peer_creation) {
  Peer* peer = peer_for(peer_name);
  if (!peer) return wire::HelloReply::WRONG_NODE;
  std::lock_guard<std::mutex> lock(peer->mu);
  if (peer->up && peer->creation == peer_creation) return wire::HelloReply::ALREADY_CONNECTED;
  // Both sides connecting at once: the connection made by the node with the
  // smaller name wins, on both sides.
  if (peer->connecting && name < peer_name) return wire::HelloReply::ALREADY_CONNECTED;
  ++peer->accepting;
  return wire::HelloReply::OK;
}

bool NodeImpl::on_up(const std::shared_ptr<Connection>& conn) {
  const std::string& peer_name = conn->handshake().peer_name();
  uint64_t peer_creation = conn->handshake().peer_creation();
  Peer* peer = peer_for(peer_name);
  if (!peer) return false;
  std::shared_ptr<Connection> replaced;
  CrossNodeTables lost;
  {
    // On `false` the connection closes, and on_closed settles the counts.
    std::lock_guard<std::mutex> lock(peer->mu);
    if (peer->up && !peer->up->is_closed()) {
      if (peer->creation == peer_creation) return false;  // lost a race: one is up already
      replaced = peer->up;                                // a new incarnation replaces the old one
    }
    uint32_t index = table.intern(peer_name, peer_creation, peer);
    if (index == 0) {
      log(LogLevel::kError, "node table full: refusing " + peer_name);
      return false;
    }
    if (conn->handshake().role() == Handshake::Role::kAccept) {
      --peer->accepting;
    } else {
      peer->connecting = false;
    }
    if (peer->creation != 0 && peer->creation != peer_creation) {
      // What was queued or linked for another incarnation is lost with it.
      // (Creation 0: only frames for any incarnation were queued, such as a
      // send to a registered name or a spawn request; they go out.)
      lost = std::move(peer->tables);
      peer->tables = CrossNodeTables{};
      peer->out.clear();
      peer->sent_types.clear();
    }
    // What was queued while connecting goes out first on this connection,
    // with the type numbers it was encoded with.
    peer->creation = peer_creation;
    peer->index = index;
    peer->up = conn;
    peer->closing = false;
    peer->write_fd = -1;  // the new connection's first flush opens it
    peer->stats = NodeStats{};
    conn->attach(peer, index);
    peer->changed.notify_all();
  }
  if (replaced) replaced->close("replaced by a new incarnation of " + peer_name);
  if (!lost.empty()) fire(std::move(lost), "node " + peer_name + " restarted");
  log(LogLevel::kInfo, "node " + peer_name + " up");
  gossip(*peer);
  notify_nodes(peer_name, true, "", {});
  return true;
}

void NodeImpl::gossip(Peer& peer) {
  wire::Frame frame;
  frame.mutable_gossip();  // even with no members: a frame always has a body
  for (const std::string& n : connected_nodes()) {
    if (n != peer.name) frame.mutable_gossip()->add_members(n);
  }
  std::lock_guard<std::mutex> lock(peer.mu);
  queue_locked(peer, frame);
  kick(peer);
}

void NodeImpl::on_closed(Connection& conn, const std::string& reason) {
  auto self = connections_.find(&conn);
  std::shared_ptr<Connection> keep;  // alive until we are done with it
  if (self != connections_.end()) {
    keep = self->second;
    connections_.erase(self);
  }
  if (stopped_ && connections_.empty()) io.stop();
  const Handshake& hs = conn.handshake();
  Peer* peer = conn.peer();
  if (!peer && !hs.peer_name().empty()) peer = peer_for(hs.peer_name());
  if (!conn.is_up()) {
    LogLevel level = hs.refused_as_duplicate() ? LogLevel::kDebug : LogLevel::kWarning;
    log(level, "connection " + conn.remote_endpoint() + (peer ? " (" + peer->name + ")" : "") +
                   " closed during handshake: " + reason);
  }
  if (!peer) return;
  if (!conn.is_up() && hs.role() == Handshake::Role::kConnect) {
    if (hs.refused_as_duplicate()) {
      awaiting_winner(*peer);
    } else {
      outgoing_failed(*peer, reason);
    }
    return;
  }
  bool was_current = false;
  bool idle = false;
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    if (conn.is_up()) {
      was_current = peer->up.get() == &conn;
      if (was_current) peer->up.reset();
    } else {
      --peer->accepting;  // an admitted incoming connection failed its handshake
      idle = !peer->up && !peer->connecting && peer->accepting == 0;
    }
  }
  if (conn.is_up()) {
    log(LogLevel::kInfo, "node " + peer->name + " down: " + reason);
    if (was_current) {
      lose(*peer, reason, /*was_up=*/true);
    } else {
      notify_nodes(peer->name, false, reason, {});  // an old incarnation, replaced
    }
  } else if (idle) {
    lose(*peer, reason, /*was_up=*/false);
  }
}

void NodeImpl::lose(Peer& peer, const std::string& reason, bool was_up) {
  CrossNodeTables tables;
  std::vector<Pid> watchers;
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    tables = std::move(peer.tables);
    peer.tables = CrossNodeTables{};
    peer.out.clear();
    peer.sent_types.clear();
    watchers.swap(peer.node_watchers);
    if (!was_up) ++peer.attempts_failed;
    peer.last_error = reason;
    peer.drained.notify_all();
    peer.changed.notify_all();
  }
  fire(std::move(tables), "node " + peer.name + " down: " + reason);
  if (was_up) {
    notify_nodes(peer.name, false, reason, std::move(watchers));
  } else {
    for (Pid w : watchers) (void)runtime->send(w, NodeDown{peer.name, reason});
  }
}

void NodeImpl::fire(CrossNodeTables tables, const std::string& why) {
  RuntimeImpl& rt = runtime->impl();
  ExitReason noconnection = ExitReason::noconnection();
  for (const auto& [local, remote] : tables.links) {
    rt.send_signal<Exit>(local, EnvelopeKind::kLinkExit, remote, Ref{}, Exit{remote, noconnection});
  }
  for (const auto& [ref, pair] : tables.monitors_out) {
    const auto& [watcher, target] = pair;
    rt.send_signal<Down>(watcher, EnvelopeKind::kDown, target, ref,
                         Down{ref, target, noconnection});
  }
  for (const auto& [ref, pair] : tables.monitors_in) {
    const auto& [watcher, target] = pair;
    rt.send_signal<NoPayload>(target, EnvelopeKind::kDemonitor, watcher, ref);
  }
  for (const auto& [ref, spawn] : tables.spawns) {
    (void)runtime->send(spawn.requester,
                        SpawnReply{ref, Pid{}, Status(StatusCode::kUnavailable, why)});
  }
}

void NodeImpl::notify_nodes(const std::string& node_name, bool up, const std::string& reason,
                            std::vector<Pid> watchers) {
  {
    std::lock_guard<std::mutex> lock(subscribers_mu_);
    std::erase_if(subscribers_, [this](Pid p) { return !runtime->alive(p); });
    watchers.insert(watchers.end(), subscribers_.begin(), subscribers_.end());
  }
  for (Pid w : watchers) {
    if (up) {
      (void)runtime->send(w, NodeUp{node_name});
    } else {
      (void)runtime->send(w, NodeDown{node_name, reason});
    }
  }
}

void NodeImpl::subscribe(Pid pid) {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  if (std::find(subscribers_.begin(), subscribers_.end(), pid) == subscribers_.end()) {
    subscribers_.push_back(pid);
  }
}

void NodeImpl::unsubscribe(Pid pid) {
  std::lock_guard<std::mutex> lock(subscribers_mu_);
  std::erase(subscribers_, pid);
}

void NodeImpl::monitor_node(Pid watcher, const std::string& node_name) {
  if (node_name == name) return;
  Peer* peer = peer_for(node_name);
  if (!peer) {
    (void)runtime->send(watcher, NodeDown{node_name, "bad node name"});
    return;
  }
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    peer->node_watchers.push_back(watcher);
    if (peer->up) return;
  }
  connect_async(*peer);
}

std::string NodeImpl::node_name(Pid pid) const {
  if (pid.node == 0) return name;
  const NodeEntry* e = table.get(pid.node);
  return e ? e->name : std::string();
}

// ---------------------------------------------------------------- sending

WirePid NodeImpl::wire_pid(const Peer& peer, Pid pid) const {
  WirePid w{pid.index, pid.serial, {}};
  if (pid.node == 0) {
    w.node.side = wire::SENDER;
  } else if (pid.node == peer.index) {
    w.node.side = wire::RECEIVER;
  } else if (const NodeEntry* e = table.get(pid.node)) {
    w.node = WireNode{wire::OTHER, &e->name, e->creation};
  }
  return w;
}

WireRef NodeImpl::wire_ref(const Peer& peer, Ref ref) const {
  WireRef w{ref.counter(), {}};
  if (ref.node() == 0) {
    w.node.side = wire::SENDER;
  } else if (ref.node() == peer.index) {
    w.node.side = wire::RECEIVER;
  } else if (const NodeEntry* e = table.get(ref.node())) {
    w.node = WireNode{wire::OTHER, &e->name, e->creation};
  }
  return w;
}

void NodeImpl::queue_locked(Peer& peer, const wire::Frame& frame) {
  append_frame(frame, &peer.out);
  ++peer.stats.frames_out;
}

void NodeImpl::kick(Peer& peer) {
  if (!peer.up) return;
  if (peer.write_fd >= 0 && TurnSends::in_turn &&
      peer.out.size() < std::min(kTurnWriteLimit, options.max_send_buffer)) {
    // A process's turn: it writes when it ends (TurnSends::flush), saving
    // the I/O thread's wake-up, and its sends leave together.
    for (const TurnWrite& w : t_turn_writes) {
      if (w.peer == &peer) return;
    }
    t_turn_writes.push_back({this, &peer});
    TurnSends::remote_pending = true;
    return;
  }
  post_flush(peer);
}

void NodeImpl::post_flush(Peer& peer) {
  if (!peer.up || peer.flush_posted) return;
  peer.flush_posted = true;
  asio::post(io, [conn = peer.up] { conn->flush(); });
}

void NodeImpl::write_now(Peer& peer) {
  std::lock_guard<std::mutex> lock(peer.mu);
  if (peer.out.empty()) return;
  if (peer.write_fd >= 0) {
    ssize_t n =
        ::send(peer.write_fd, peer.out.data(), peer.out.size(), MSG_DONTWAIT | MSG_NOSIGNAL);
    if (n > 0) {
      ++peer.stats.writes;
      peer.stats.bytes_out += static_cast<uint64_t>(n);
      peer.last_direct_write = Clock::now();
      peer.out.erase(0, static_cast<size_t>(n));
      peer.drained.notify_all();
      if (peer.out.empty()) return;
    }
    // The socket is full or failed: the I/O thread writes the rest (and
    // handles the error).
    peer.write_fd = -1;
  }
  post_flush(peer);
}

bool NodeImpl::wait_for_room(Peer& peer, std::unique_lock<std::mutex>& lock) {
  if (peer.out.size() < options.max_send_buffer) return true;
  auto close = [this, &peer](const std::string& why) {
    if (!peer.up || peer.closing) return;  // once per connection
    peer.closing = true;
    log(LogLevel::kWarning, "disconnecting " + peer.name + ": " + why);
    asio::post(io, [conn = peer.up, why] { conn->close(why); });
  };
  if (on_io_thread()) {
    close("send buffer full (" + std::to_string(options.max_send_buffer) + " bytes)");
    return false;
  }
  if (TurnSends::in_turn) {
    // What this turn put off for other peers leaves before we wait.
    lock.unlock();
    TurnSends::before_blocking();
    lock.lock();
  }
  auto deadline = Clock::now() + options.tick_timeout;
  while (peer.out.size() >= options.max_send_buffer && (peer.up || peer.connecting)) {
    if (peer.drained.wait_until(lock, deadline) == std::cv_status::timeout &&
        peer.out.size() >= options.max_send_buffer) {
      close("send buffer stalled for " + std::to_string(options.tick_timeout.count()) + " ms");
      return false;
    }
  }
  return peer.up || peer.connecting;
}

void NodeImpl::route(Pid to, Envelope* env) {
  const NodeEntry* e = table.get(to.node);
  RuntimeImpl& rt = runtime->impl();
  if (!e || !e->peer) {
    rt.on_dead_target(to, env, ExitReason::noconnection());
    return;
  }
  Peer& peer = *e->peer;
  std::unique_lock<std::mutex> lock(peer.mu);
  if (peer.creation != e->creation) {
    if (peer.creation != 0 && (peer.up || !peer.tables.empty() || !peer.out.empty())) {
      // An incarnation other than the one in use: it is gone.
      lock.unlock();
      rt.on_dead_target(to, env, ExitReason::noconnection());
      return;
    }
    peer.creation = e->creation;
    peer.index = to.node;
  }
  bool need_connect = !peer.up && !peer.connecting;
  if (need_connect) peer.connecting = true;
  if (!wait_for_room(peer, lock)) {
    lock.unlock();
    rt.on_dead_target(to, env, ExitReason::noconnection());
    return;
  }
  encode(peer, to, {}, env);
  kick(peer);
  lock.unlock();
  if (need_connect) asio::post(io, [this, &peer] { start_outgoing(peer); });
}

Status NodeImpl::send_named(const std::string& node_name, const std::string& to_name,
                            Envelope* env) {
  Peer* peer = peer_for(node_name);
  if (!peer) {
    delete env;
    return Status(StatusCode::kInvalidArgument, "bad node name '" + node_name + "'");
  }
  std::unique_lock<std::mutex> lock(peer->mu);
  bool need_connect = !peer->up && !peer->connecting;
  if (need_connect) peer->connecting = true;
  if (wait_for_room(*peer, lock))
    encode(*peer, Pid{}, to_name, env);
  else
    delete env;
  kick(*peer);
  lock.unlock();
  if (need_connect) asio::post(io, [this, peer] { start_outgoing(*peer); });
  return Status::OK();
}

void NodeImpl::encode(Peer& peer, Pid to, std::string_view to_name, Envelope* env) {
  std::unique_ptr<Envelope> owned(env);
  WirePid wto{to.index, to.serial, {wire::RECEIVER, nullptr, 0}};
  WirePid wfrom;
  WireRef wref;
  bool has_from = env->from.valid();
  bool has_ref = env->ref.valid();
  if (has_from) wfrom = wire_pid(peer, env->from);
  if (has_ref) wref = wire_ref(peer, env->ref);
  ++peer.stats.frames_out;
  if (!is_signal(env->kind)) {
    auto it = peer.sent_types.find(env->type);
    std::string type_name;
    if (it == peer.sent_types.end()) {
      const WireType* type = find_wire_type(env->type);
      if (!type) {
        log(LogLevel::kError,
            "a message of a type that cannot cross nodes was sent to " + peer.name + "; dropped");
        return;
      }
      it = peer.sent_types
               .emplace(env->type,
                        std::make_pair(static_cast<uint32_t>(peer.sent_types.size() + 1), type))
               .first;
      type_name = type->name();
    }
    PayloadState state{it->second.second, env};
    SendFields send;
    send.kind = send_kind(env->kind);
    if (to_name.empty()) {
      send.to = &wto;
    } else {
      send.to_name = to_name;
    }
    send.from = has_from ? &wfrom : nullptr;
    send.ref = has_ref ? &wref : nullptr;
    send.type = it->second.first;
    send.type_name = type_name;
    send.payload = PayloadWriter{state.type->byte_size(env), &write_payload, &state};
    append_send(send, &peer.out);
    return;
  }
  SignalFields signal;
  signal.to = wto;
  signal.from = has_from ? &wfrom : nullptr;
  signal.ref = has_ref ? &wref : nullptr;
  CrossNodeTables& t = peer.tables;
  switch (env->kind) {
    case EnvelopeKind::kLink:
      t.links.insert({env->from, to});
      signal.kind = wire::Signal::LINK;
      break;
    case EnvelopeKind::kUnlink:
      t.links.erase({env->from, to});
      signal.kind = wire::Signal::UNLINK;
      break;
    case EnvelopeKind::kLinkExit:
      t.links.erase({env->from, to});
      signal.kind = wire::Signal::LINK_EXIT;
      signal.reason = &payload<Exit>(env).reason;
      break;
    case EnvelopeKind::kExit:
      signal.kind = wire::Signal::EXIT;
      signal.reason = &payload<Exit>(env).reason;
      break;
    case EnvelopeKind::kMonitor:
      t.monitors_out[env->ref] = {env->from, to};
      signal.kind = wire::Signal::MONITOR;
      break;
    case EnvelopeKind::kDemonitor:
      t.monitors_out.erase(env->ref);
      signal.kind = wire::Signal::DEMONITOR;
      break;
    case EnvelopeKind::kDown:
      t.monitors_in.erase(env->ref);
      signal.kind = wire::Signal::DOWN;
      signal.reason = &payload<Down>(env).reason;
      break;
    default:
      return;  // timeouts and adoptions never cross nodes
  }
  append_signal(signal, &peer.out);
}

bool NodeImpl::queue_frame(Peer& peer, const wire::Frame& frame) {
  std::unique_lock<std::mutex> lock(peer.mu);
  bool need_connect = !peer.up && !peer.connecting;
  if (need_connect) peer.connecting = true;
  bool queued = wait_for_room(peer, lock);
  if (queued) queue_locked(peer, frame);
  kick(peer);
  lock.unlock();
  if (need_connect) asio::post(io, [this, &peer] { start_outgoing(peer); });
  return queued;
}

// ---------------------------------------------------------------- receiving

std::optional<uint32_t> NodeImpl::node_index(const Connection& conn, wire::Side side,
                                             const wire::NodeId& node) {
  switch (side) {
    case wire::SENDER:
      return conn.peer_index();
    case wire::RECEIVER:
      return 0;
    case wire::OTHER: {
      if (node.name() == name) {
        if (node.creation() == creation) return 0;
        // An earlier incarnation of this node: a pid that routes nowhere.
        uint32_t index = table.intern(node.name(), node.creation(), nullptr);
        return index ? std::optional<uint32_t>(index) : std::nullopt;
      }
      Peer* peer = peer_for(node.name());
      if (!peer) return std::nullopt;
      uint32_t index = table.intern(node.name(), node.creation(), peer);
      return index ? std::optional<uint32_t>(index) : std::nullopt;
    }
    default:
      return std::nullopt;
  }
}

Pid NodeImpl::local_pid(const Connection& conn, const wire::Pid& pid) {
  if (pid.serial() == 0) return Pid{};
  std::optional<uint32_t> index = node_index(conn, pid.side(), pid.node());
  if (!index) return Pid{};
  return Pid{*index, pid.index(), pid.serial()};
}

Ref NodeImpl::local_ref(const Connection& conn, const wire::Ref& ref) {
  std::optional<uint32_t> index = node_index(conn, ref.side(), ref.node());
  if (!index || ref.id() == 0) return Ref{};
  return Ref::make(*index, ref.id());
}

bool NodeImpl::on_frame(Connection& conn, const wire::Frame& frame, std::string* error) {
  switch (frame.body_case()) {
    case wire::Frame::kSend:
      return on_send(conn, frame.send(), error);
    case wire::Frame::kSignal:
      return on_signal(conn, frame.signal(), error);
    case wire::Frame::kSpawnRequest:
      on_spawn_request(conn, frame.spawn_request());
      return true;
    case wire::Frame::kSpawnReply:
      on_spawn_reply(conn, frame.spawn_reply());
      return true;
    case wire::Frame::kTick:
      return true;
    case wire::Frame::kGossip:
      for (const std::string& member : frame.gossip().members()) {
        if (member == name) continue;
        if (Peer* peer = peer_for(member)) connect_async(*peer);
      }
      return true;
    default:
      *error = "unexpected frame (" + std::to_string(frame.body_case()) + ") after the handshake";
      return false;
  }
}

bool NodeImpl::on_send(Connection& conn, const wire::Send& send, std::string* error) {
  uint32_t type = send.type();
  if (!send.type_name().empty()) {
    if (type != conn.received_types.size() + 1) {
      *error = "type number " + std::to_string(type) + " out of order";
      return false;
    }
    conn.received_types.push_back({find_wire_type(send.type_name()), send.type_name()});
  }
  if (type == 0 || type > conn.received_types.size()) {
    *error = "message of unknown type number " + std::to_string(type);
    return false;
  }
  Pid to;
  if (send.has_to()) {
    to = local_pid(conn, send.to());
    if (to.node != 0) {
      log(LogLevel::kWarning, "dropped a message for " + to.to_string() + " that is not local");
      return true;
    }
  } else {
    to = runtime->whereis(send.to_name());  // an unregistered name drops it, as in Erlang
  }
  if (!to) return true;
  const Connection::ReceivedType& rt = conn.received_types[type - 1];
  EnvelopeKind kind = envelope_kind(send.kind());
  Envelope* env;
  if (rt.type) {
    env = rt.type->parse(send.payload().data(), send.payload().size(), kind);
    if (!env) {
      log(LogLevel::kError,
          "a " + rt.name + " from " + conn.peer()->name + " does not parse; dropped");
      return true;
    }
  } else {
    env = make_envelope<UnknownMessage>(kind, UnknownMessage{rt.name, send.payload()});
  }
  if (send.has_from()) env->from = local_pid(conn, send.from());
  if (send.has_ref()) env->ref = local_ref(conn, send.ref());
  runtime->deliver(to, env);
  return true;
}

bool NodeImpl::on_signal(Connection& conn, const wire::Signal& signal, std::string* error) {
  Pid to = local_pid(conn, signal.to());
  Pid from = signal.has_from() ? local_pid(conn, signal.from()) : Pid{};
  Ref ref = signal.has_ref() ? local_ref(conn, signal.ref()) : Ref{};
  ExitReason reason = signal.has_reason() ? from_wire(signal.reason()) : ExitReason();
  if (!to || to.node != 0) {
    log(LogLevel::kWarning, "dropped a signal for a pid that is not local");
    return true;
  }
  RuntimeImpl& rt = runtime->impl();
  Peer& peer = *conn.peer();
  bool needs_from = signal.kind() != wire::Signal::EXIT;
  bool needs_ref = signal.kind() >= wire::Signal::MONITOR;
  if ((needs_from && !from) || (needs_ref && !ref)) {
    *error = "signal without its sender or ref";
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    CrossNodeTables& t = peer.tables;
    switch (signal.kind()) {
      case wire::Signal::LINK:
        t.links.insert({to, from});
        break;
      case wire::Signal::UNLINK:
      case wire::Signal::LINK_EXIT:
        t.links.erase({to, from});
        break;
      case wire::Signal::MONITOR:
        t.monitors_in[ref] = {from, to};
        break;
      case wire::Signal::DEMONITOR:
        t.monitors_in.erase(ref);
        break;
      case wire::Signal::DOWN:
        t.monitors_out.erase(ref);
        break;
      case wire::Signal::EXIT:
        break;
      default:
        *error = "unknown signal kind " + std::to_string(signal.kind());
        return false;
    }
  }
  switch (signal.kind()) {
    case wire::Signal::LINK:
      rt.send_signal<NoPayload>(to, EnvelopeKind::kLink, from, Ref{});
      break;
    case wire::Signal::UNLINK:
      rt.send_signal<NoPayload>(to, EnvelopeKind::kUnlink, from, Ref{});
      break;
    case wire::Signal::LINK_EXIT:
      rt.send_signal<Exit>(to, EnvelopeKind::kLinkExit, from, Ref{}, Exit{from, std::move(reason)});
      break;
    case wire::Signal::EXIT:
      rt.send_exit(from, to, std::move(reason));
      break;
    case wire::Signal::MONITOR:
      rt.send_signal<NoPayload>(to, EnvelopeKind::kMonitor, from, ref);
      break;
    case wire::Signal::DEMONITOR:
      rt.send_signal<NoPayload>(to, EnvelopeKind::kDemonitor, from, ref);
      break;
    case wire::Signal::DOWN:
      rt.send_signal<Down>(to, EnvelopeKind::kDown, from, ref, Down{ref, from, std::move(reason)});
      break;
    default:
      break;
  }
  return true;
}

// ---------------------------------------------------------------- spawn

Status NodeImpl::add_process_type(const std::string& type, ProcessType entry) {
  if (type.empty()) return Status(StatusCode::kInvalidArgument, "empty process type name");
  std::lock_guard<std::mutex> lock(types_mu_);
  if (!process_types_.emplace(type, std::move(entry)).second) {
    return Status(StatusCode::kAlreadyExists, "process type '" + type + "' is registered");
  }
  return Status::OK();
}

Process* NodeImpl::make_typed_process(const std::string& type, const std::string& args_type,
                                      const std::string& args, Status* error) {
  std::function<Process*(Runtime&, const std::string&, Status*)> make;
  {
    std::lock_guard<std::mutex> lock(types_mu_);
    auto it = process_types_.find(type);
    if (it == process_types_.end()) {
      *error = Status(StatusCode::kNotFound, "no process type '" + type + "' on " + name);
      return nullptr;
    }
    if (it->second.args_type != args_type) {
      *error =
          Status(StatusCode::kInvalidArgument, "process type '" + type + "' takes " +
                                                   it->second.args_type + ", not " + args_type);
      return nullptr;
    }
    make = it->second.make;
  }
  Process* p = make(*runtime, args, error);
  if (!p && error->ok()) {
    *error = Status(StatusCode::kResourceExhausted,
                    "cannot spawn on " + name + ": process table full or shutting down");
  }
  return p;
}

Ref NodeImpl::request_spawn(Pid requester, const std::string& node_name, const std::string& type,
                            const std::string& args_type, std::string args, SpawnOptions opts) {
  Ref ref = runtime->make_ref();
  RuntimeImpl& rt = runtime->impl();
  if (node_name == name) {
    Status error;
    Process* p = make_typed_process(type, args_type, args, &error);
    if (!p) {
      (void)runtime->send(requester, SpawnReply{ref, Pid{}, std::move(error)});
      return ref;
    }
    Pid child = p->pid();
    // Set up before the child runs; the requester learns in signal order.
    if (opts.link) {
      RuntimeImpl::extras(p).links.insert(requester, 1);
      rt.send_signal<NoPayload>(requester, EnvelopeKind::kLink, child, Ref{});
    }
    if (opts.monitor) {
      RuntimeImpl::extras(p).monitors_in.insert(ref, requester);
      rt.send_signal<NoPayload>(requester, EnvelopeKind::kMonitorAdopt, child, ref);
    }
    (void)runtime->send(requester, SpawnReply{ref, child, Status::OK()});
    runtime->start(p);
    return ref;
  }
  Peer* peer = peer_for(node_name);
  if (!peer) {
    (void)runtime->send(requester, SpawnReply{ref, Pid{},
                                              Status(StatusCode::kInvalidArgument,
                                                     "bad node name '" + node_name + "'")});
    return ref;
  }
  wire::Frame frame;
  wire::SpawnRequest* request = frame.mutable_spawn_request();
  request->set_id(ref.counter());
  request->mutable_requester()->set_index(requester.index);
  request->mutable_requester()->set_serial(requester.serial);
  request->mutable_requester()->set_side(wire::SENDER);
  request->set_type(type);
  request->set_args_type(args_type);
  request->set_args(std::move(args));
  request->set_link(opts.link);
  request->set_monitor(opts.monitor);
  {
    std::lock_guard<std::mutex> lock(peer->mu);
    peer->tables.spawns[ref] = PendingSpawn{requester, opts};
  }
  if (!queue_frame(*peer, frame)) {
    // Dropped: answer now, unless losing the peer answered already.
    bool pending;
    {
      std::lock_guard<std::mutex> lock(peer->mu);
      pending = peer->tables.spawns.erase(ref) > 0;
    }
    if (pending) {
      (void)runtime->send(requester, SpawnReply{ref, Pid{},
                                                Status(StatusCode::kUnavailable,
                                                       "send queue to " + node_name + " is full")});
    }
  }
  return ref;
}

void NodeImpl::on_spawn_request(Connection& conn, const wire::SpawnRequest& request) {
  Peer& peer = *conn.peer();
  {
    // A peer that asks but never reads its replies is disconnected, not
    // served without bound.
    std::unique_lock<std::mutex> lock(peer.mu);
    if (!wait_for_room(peer, lock)) return;
  }
  Pid requester = local_pid(conn, request.requester());
  Status error;
  Process* p = requester
                   ? make_typed_process(request.type(), request.args_type(), request.args(), &error)
                   : nullptr;
  if (!requester) error = Status(StatusCode::kInvalidArgument, "spawn request without a requester");
  wire::Frame frame;
  wire::SpawnReply* reply = frame.mutable_spawn_reply();
  reply->set_id(request.id());
  *reply->mutable_requester() = request.requester();
  reply->mutable_requester()->set_side(wire::RECEIVER);
  if (!p) {
    reply->set_error(error.message());
    reply->set_code(static_cast<uint32_t>(error.code()));
    queue_frame(peer, frame);
    return;
  }
  Pid child = p->pid();
  Ref ref = Ref::make(conn.peer_index(), request.id());
  reply->mutable_pid()->set_index(child.index);
  reply->mutable_pid()->set_serial(child.serial);
  reply->mutable_pid()->set_side(wire::SENDER);
  {
    // The reply goes out before the child can run, so that its exit signal
    // can never overtake it.
    std::lock_guard<std::mutex> lock(peer.mu);
    if (request.link()) {
      RuntimeImpl::extras(p).links.insert(requester, 1);
      peer.tables.links.insert({child, requester});
    }
    if (request.monitor()) {
      RuntimeImpl::extras(p).monitors_in.insert(ref, requester);
      peer.tables.monitors_in[ref] = {requester, child};
    }
    queue_locked(peer, frame);
    kick(peer);
  }
  runtime->start(p);
}

void NodeImpl::on_spawn_reply(Connection& conn, const wire::SpawnReply& reply) {
  Peer& peer = *conn.peer();
  Ref ref = Ref::make(0, reply.id());
  PendingSpawn spawn;
  Pid child = reply.has_pid() ? local_pid(conn, reply.pid()) : Pid{};
  {
    std::lock_guard<std::mutex> lock(peer.mu);
    auto it = peer.tables.spawns.find(ref);
    if (it == peer.tables.spawns.end()) return;  // answered already (the node was lost)
    spawn = it->second;
    peer.tables.spawns.erase(it);
    if (child) {
      if (spawn.options.link) peer.tables.links.insert({spawn.requester, child});
      if (spawn.options.monitor) peer.tables.monitors_out[ref] = {spawn.requester, child};
    }
  }
  if (!child) {
    StatusCode code =
        reply.code() != 0 ? static_cast<StatusCode>(reply.code()) : StatusCode::kInvalidArgument;
    (void)runtime->send(spawn.requester, SpawnReply{ref, Pid{}, Status(code, reply.error())});
    return;
  }
  RuntimeImpl& rt = runtime->impl();
  if (spawn.options.link) {
    rt.send_signal<NoPayload>(spawn.requester, EnvelopeKind::kLink, child, Ref{});
  }
  if (spawn.options.monitor) {
    rt.send_signal<NoPayload>(spawn.requester, EnvelopeKind::kMonitorAdopt, child, ref);
  }
  (void)runtime->send(spawn.requester, SpawnReply{ref, child, Status::OK()});
}

}  // namespace detail

// ---------------------------------------------------------------- Node

using detail::NodeImpl;

Result<std::unique_ptr<Node>> Node::start(NodeOptions options) {
  Result<detail::NodeAddress> address = detail::parse_node_name(options.name, true);
  if (!address.ok()) return address.status();
  if (options.cookie.empty()) return Status(StatusCode::kInvalidArgument, "empty cookie");
  if (options.runtime.deterministic) {
    return Status(StatusCode::kInvalidArgument, "a node needs a threaded runtime");
  }
  if (options.tick_timeout < std::chrono::milliseconds(40)) {
    return Status(StatusCode::kInvalidArgument, "tick_timeout below 40 ms");
  }
  if (options.max_frame_size < 1024 || options.max_frame_size > (size_t{1} << 31)) {
    return Status(StatusCode::kInvalidArgument, "max_frame_size must be 1 KiB to 2 GiB");
  }
  if (options.max_send_buffer < 1024) {
    return Status(StatusCode::kInvalidArgument, "max_send_buffer below 1 KiB");
  }
  for (const std::string& seed : options.seeds) {
    if (!detail::parse_node_name(seed).ok()) {
      return Status(StatusCode::kInvalidArgument, "bad seed node name '" + seed + "'");
    }
  }
  std::unique_ptr<Node> node(new Node(std::move(options)));
  Status status = node->impl_->start();
  if (!status.ok()) return status;
  return node;
}

Node::Node(NodeOptions options) {
  detail::NodeAddress address = *detail::parse_node_name(options.name, true);
  impl_ = std::make_unique<NodeImpl>(*this, std::move(options), std::move(address));
}

Node::~Node() { impl_->stop(); }

Runtime& Node::runtime() { return *impl_->runtime; }
const std::string& Node::name() const { return impl_->name; }
uint64_t Node::creation() const { return impl_->creation; }
Status Node::connect(const std::string& node) { return impl_->connect_blocking(node); }
void Node::disconnect(const std::string& node) { impl_->disconnect(node); }
std::vector<std::string> Node::nodes() const { return impl_->connected_nodes(); }
std::string Node::node_name(Pid pid) const { return impl_->node_name(pid); }
void Node::subscribe(Pid subscriber) { impl_->subscribe(subscriber); }
void Node::unsubscribe(Pid subscriber) { impl_->unsubscribe(subscriber); }
void Node::monitor_node(Pid watcher, const std::string& node) {
  impl_->monitor_node(watcher, node);
}

NodeStats Node::stats(const std::string& node) const {
  detail::Peer* peer = impl_->peer_for(node);
  if (!peer) return {};
  std::lock_guard<std::mutex> lock(peer->mu);
  return peer->stats;
}

void Node::to_proto(Pid pid, PidProto* out) const {
  out->set_index(pid.index);
  out->set_serial(pid.serial);
  if (pid.node == 0) {
    out->set_node(impl_->name);
    out->set_creation(impl_->creation);
  } else if (const detail::NodeEntry* e = impl_->table.get(pid.node)) {
    out->set_node(e->name);
    out->set_creation(e->creation);
  }
}

Result<Pid> Node::from_proto(const PidProto& proto) {
  if (proto.serial() == 0) return Pid{};
  if (proto.node() == impl_->name && proto.creation() == impl_->creation) {
    return Pid{0, proto.index(), proto.serial()};
  }
  if (!detail::parse_node_name(proto.node()).ok()) {
    return Status(StatusCode::kInvalidArgument, "bad node name '" + proto.node() + "' in a pid");
  }
  detail::Peer* peer = proto.node() == impl_->name ? nullptr : impl_->peer_for(proto.node());
  uint32_t index = impl_->table.intern(proto.node(), proto.creation(), peer);
  if (index == 0) return Status(StatusCode::kResourceExhausted, "node table full");
  return Pid{index, proto.index(), proto.serial()};
}

Status Node::add_process_type(const std::string& type, const std::string& args_type,
                              SpawnBody body) {
  return impl_->add_process_type(type, NodeImpl::ProcessType{args_type, std::move(body)});
}

Ref Node::request_spawn(Pid requester, const std::string& node, const std::string& type,
                        const std::string& args_type, std::string args, SpawnOptions options) {
  return impl_->request_spawn(requester, node, type, args_type, std::move(args), options);
}

Status Node::send_named(const std::string& node, const std::string& name, detail::Envelope* env) {
  return impl_->send_named(node, name, env);
}

}  // namespace plexus

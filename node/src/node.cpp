// Node (the facade) and NodeImpl's start and stop.
#include "plexus/node/node.h"

#include "handshake.h"
#include "loopback_backend.h"
#include "node_impl.h"
#include "plexus/pid.pb.h"
#include "tcp_backend.h"

namespace plexus {
namespace detail {

namespace {

uint64_t random_creation() {
  for (;;) {
    std::string bytes = random_bytes(8);
    uint64_t c = 0;
    for (unsigned char b : bytes) c = c << 8 | b;
    if (c != 0) return c;
  }
}

std::unique_ptr<Backend> make_backend(const NodeOptions& options, Runtime& runtime) {
  if (options.loopback) return std::make_unique<LoopbackBackend>(*options.loopback, runtime);
  return std::make_unique<TcpBackend>();
}

}  // namespace

NodeImpl::NodeImpl(Node& node, NodeOptions opts, const NodeAddress& address)
    : owner(node),
      options(std::move(opts)),
      identity{
          address.name(),
          options.loopback ? LoopbackBackend::creation_for(*options.loopback) : random_creation(),
          options.cookie, options.hidden},
      runtime(std::make_unique<Runtime>(options.runtime)),
      peers(identity.name),
      ids(table, peers),
      backend_(make_backend(options, *runtime)),
      outbound_(*runtime, *this, options, *backend_, table, peers, ids),
      inbound_(*runtime, ids),
      spawn_(*runtime, identity.name, peers, ids, outbound_),
      membership_(*runtime, options, identity, *backend_, table, peers, outbound_, inbound_,
                  spawn_) {}

NodeImpl::~NodeImpl() { stop(); }

Status NodeImpl::start() {
  Result<NodeAddress> address = parse_node_name(identity.name, /*allow_port_zero=*/true);
  if (!address.ok()) return address.status();
  if (options.tls) {
    auto* tcp = dynamic_cast<TcpBackend*>(backend_.get());
    if (!tcp) return Status(StatusCode::kInvalidArgument, "TLS needs a TCP node");
    Status tls = tcp->use_tls(*options.tls);
    if (!tls.ok()) return tls;
  }
  Result<NodeAddress> bound = backend_->listen(*address);
  if (!bound.ok()) return bound.status();
  identity.name = bound->name();
  peers.set_self(identity.name);
  ids.set_self(identity.name, identity.creation);
  table.set_self(&identity.name);

  for (const std::string& seed : options.seeds) {
    if (seed == identity.name) continue;
    Peer* peer = peers.get(seed);
    if (!peer) return Status(StatusCode::kInvalidArgument, "bad seed node name '" + seed + "'");
    MutexLock lock(peer->mu);
    peer->seed = true;
  }
  spi::attach(*runtime, this);
  metrics_ = runtime->metrics().add([this](MetricsWriter& out) { write_metrics(out); });
  // protobuf builds its generated descriptor pool lazily, on the first use of
  // any descriptor (a type's name, an enum's name). Build it here, before
  // the loop can race a sending thread to it: libprotobuf guards that with a
  // once-flag of its own, which TSan cannot see.
  (void)wire::Frame::descriptor();
  backend_->start(membership_);
  backend_->post([this] { membership_.tick(); });
  runtime->log(LogLevel::kInfo, "node " + identity.name + " started (creation " +
                                    std::to_string(identity.creation) + ")");
  return Status::OK();
}

void NodeImpl::stop() {
  if (stopped_.exchange(true)) return;
  metrics_.reset();
  membership_.begin_stop();
  // Processes first, so that their exit signals reach the peers; then the
  // connections, each after writing what it has queued.
  runtime->shutdown();
  backend_->stop([this] { membership_.close_all(); });
  spi::attach(*runtime, nullptr);
}

}  // namespace detail

// ---------------------------------------------------------------- Node

using detail::NodeImpl;

Result<std::unique_ptr<Node>> Node::start(NodeOptions options) {
  Result<detail::NodeAddress> address = detail::parse_node_name(options.name, true);
  if (!address.ok()) return address.status();
  if (options.cookie.empty()) return Status(StatusCode::kInvalidArgument, "empty cookie");
  if (options.runtime.deterministic != (options.loopback != nullptr)) {
    return Status(StatusCode::kInvalidArgument,
                  options.loopback ? "a loopback node needs a deterministic runtime"
                                   : "a TCP node needs a threaded runtime");
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
  if (options.max_pending_handshakes == 0 || options.max_pending_handshakes_per_host == 0) {
    return Status(StatusCode::kInvalidArgument,
                  "the caps on pending handshakes must be at least 1");
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
  impl_ = std::make_unique<NodeImpl>(*this, std::move(options), address);
}

Node::~Node() { impl_->stop(); }

Node* Node::of(const Context& self) {
  auto* impl = dynamic_cast<NodeImpl*>(spi::attached(self.runtime()));
  return impl ? &impl->owner : nullptr;
}

Runtime& Node::runtime() { return *impl_->runtime; }
const std::string& Node::name() const { return impl_->identity.name; }
uint64_t Node::creation() const { return impl_->identity.creation; }
const NodeOptions& Node::options() const { return impl_->options; }
Status Node::connect(const std::string& node) { return impl_->membership_.connect_blocking(node); }
void Node::disconnect(const std::string& node) { impl_->membership_.disconnect(node); }
std::vector<std::string> Node::nodes() const { return impl_->peers.connected(); }
std::vector<std::string> Node::hidden_nodes() const { return impl_->peers.connected(true); }
bool Node::hidden() const { return impl_->identity.hidden; }

void Node::block(const std::vector<std::string>& peers) { impl_->membership_.block(peers); }
void Node::unblock(const std::vector<std::string>& peers) { impl_->membership_.unblock(peers); }
std::vector<std::string> Node::blocked() const { return impl_->membership_.blocked(); }

uint64_t Node::creation_of(const std::string& node) const {
  if (node == impl_->identity.name) return impl_->identity.creation;
  detail::Peer* peer = impl_->peers.find(node);
  if (!peer) return 0;
  detail::MutexLock lock(peer->mu);
  return peer->up ? peer->creation : 0;
}
void Node::subscribe(Pid subscriber) { impl_->membership_.subscribe(subscriber); }
void Node::unsubscribe(Pid subscriber) { impl_->membership_.unsubscribe(subscriber); }
uint64_t Node::add_down_listener(std::function<void(uint32_t node)> fn) {
  return impl_->membership_.add_down_listener(std::move(fn));
}
void Node::remove_down_listener(uint64_t id) { impl_->membership_.remove_down_listener(id); }
void Node::monitor_node(Pid watcher, const std::string& node) {
  impl_->membership_.monitor_node(watcher, node);
}

std::string Node::node_name(Pid pid) const { return std::string(node_name_view(pid)); }

std::string_view Node::node_name_view(Pid pid) const {
  if (pid.node == 0) return impl_->identity.name;
  std::optional<detail::NodeEntry> e = impl_->table.get(pid.node);
  return e ? std::string_view(*e->name) : std::string_view();
}

NodeStats Node::stats(const std::string& node) const {
  detail::Peer* peer = impl_->peers.find(node);  // a query makes no peer
  if (!peer) return {};
  detail::MutexLock lock(peer->mu);
  return NodeStats{.frames_in = peer->frames_in,
                   .frames_out = peer->out.frames(),
                   .bytes_in = peer->bytes_in,
                   .bytes_out = peer->out.bytes_written(),
                   .writes = peer->out.writes()};
}

void Node::to_proto(Pid pid, PidProto* out) const {
  out->set_index(pid.index);
  out->set_serial(pid.serial);
  if (pid.node == 0) {
    out->set_node(impl_->identity.name);
    out->set_creation(impl_->identity.creation);
  } else if (std::optional<detail::NodeEntry> e = impl_->table.get(pid.node)) {
    out->set_node(*e->name);
    out->set_creation(e->creation);
  }
}

Result<Pid> Node::from_proto(const PidProto& proto) {
  const detail::NodeIdentity& self = impl_->identity;
  if (proto.serial() == 0) return Pid{};
  if (proto.node() == self.name && proto.creation() == self.creation) {
    return Pid{0, proto.index(), proto.serial()};
  }
  if (!detail::parse_node_name(proto.node()).ok()) {
    return Status(StatusCode::kInvalidArgument, "bad node name '" + proto.node() + "' in a pid");
  }
  detail::Peer* peer = proto.node() == self.name ? nullptr : impl_->peers.get(proto.node());
  std::string why;
  uint32_t index = impl_->table.intern(proto.node(), proto.creation(), peer,
                                       detail::NodeTable::Use::kNamed, &why);
  if (index == 0) return Status(StatusCode::kResourceExhausted, why);
  return Pid{index, proto.index(), proto.serial()};
}

Status Node::add_process_type(const std::string& type, const std::string& args_type,
                              SpawnBody body) {
  return impl_->spawn_.add_type(type, args_type, std::move(body));
}

Ref Node::request_spawn(Pid requester, const std::string& node, const std::string& type,
                        const std::string& args_type, std::string args, SpawnOptions options) {
  return impl_->spawn_.request(requester, node, type, args_type, std::move(args), options);
}

Result<Pid> Node::spawn_local(const std::string& type, const std::string& args, Pid link_to) {
  return impl_->spawn_.spawn_here(type, args, link_to);
}

Status Node::send_named(const std::string& node, const std::string& name, detail::Envelope* env) {
  return impl_->outbound_.send_named(node, name, env);
}

}  // namespace plexus

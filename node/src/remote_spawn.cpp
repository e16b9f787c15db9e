#include "remote_spawn.h"

#include "plexus/spi/distribution.h"

namespace plexus::detail {

Status RemoteSpawn::add_type(const std::string& type, std::string args_type, Make make) {
  if (type.empty()) return Status(StatusCode::kInvalidArgument, "empty process type name");
  MutexLock lock(types_mu_);
  if (!types_.emplace(type, ProcessType{std::move(args_type), std::move(make)}).second) {
    return Status(StatusCode::kAlreadyExists, "process type '" + type + "' is registered");
  }
  return Status::OK();
}

Process* RemoteSpawn::make(const std::string& type, const std::string* args_type,
                           const std::string& args, Status* error) {
  Make make;
  {
    MutexLock lock(types_mu_);
    auto it = types_.find(type);
    if (it == types_.end()) {
      *error = Status(StatusCode::kNotFound, "no process type '" + type + "' on " + self_);
      return nullptr;
    }
    if (args_type && it->second.args_type != *args_type) {
      *error =
          Status(StatusCode::kInvalidArgument, "process type '" + type + "' takes " +
                                                   it->second.args_type + ", not " + *args_type);
      return nullptr;
    }
    make = it->second.make;
  }
  Process* p = make(runtime_, args, error);
  if (!p && error->ok()) {
    *error = Status(StatusCode::kResourceExhausted,
                    "cannot spawn on " + self_ + ": process table full or shutting down");
  }
  return p;
}

Result<Pid> RemoteSpawn::spawn_here(const std::string& type, const std::string& args, Pid link_to) {
  Status error;
  Process* p = make(type, nullptr, args, &error);
  if (!p) return error;
  Pid child = p->pid();
  // As for a spawn_link: the parent's side of the link is in its queue
  // before the child can run, so the child's exit cannot overtake it.
  if (link_to) spi::signal<NoPayload>(runtime_, link_to, EnvelopeKind::kLink, child, Ref{});
  spi::start_child(runtime_, p, {.linked = link_to});
  return child;
}

Ref RemoteSpawn::request(Pid requester, const std::string& node_name, const std::string& type,
                         const std::string& args_type, std::string args, SpawnOptions opts) {
  Ref ref = runtime_.make_ref();
  if (node_name == self_) {
    Status error;
    Process* p = make(type, &args_type, args, &error);
    if (!p) {
      (void)runtime_.send(requester, SpawnReply{ref, Pid{}, std::move(error)});
      return ref;
    }
    Pid child = p->pid();
    // The requester learns of its link and monitor before the child can run,
    // so that the child's exit cannot overtake them.
    if (opts.link) spi::signal<NoPayload>(runtime_, requester, EnvelopeKind::kLink, child, Ref{});
    if (opts.monitor) {
      spi::signal<NoPayload>(runtime_, requester, EnvelopeKind::kMonitorAdopt, child, ref);
    }
    (void)runtime_.send(requester, SpawnReply{ref, child, Status::OK()});
    spi::start_child(runtime_, p,
                     {.linked = opts.link ? requester : Pid{},
                      .monitored_by = opts.monitor ? requester : Pid{},
                      .monitor_ref = ref});
    return ref;
  }
  Peer* peer = peers_.get(node_name);
  if (!peer) {
    (void)runtime_.send(requester, SpawnReply{ref, Pid{},
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
    MutexLock lock(peer->mu);
    peer->tables.spawns[ref] = PendingSpawn{requester, opts};
  }
  if (!outbound_.send_frame(*peer, frame)) {
    // Dropped: answer now, unless losing the peer answered already.
    bool pending;
    {
      MutexLock lock(peer->mu);
      pending = peer->tables.spawns.erase(ref) > 0;
    }
    if (pending) {
      (void)runtime_.send(requester, SpawnReply{ref, Pid{},
                                                Status(StatusCode::kUnavailable,
                                                       "send queue to " + node_name + " is full")});
    }
  }
  return ref;
}

void RemoteSpawn::on_request(Connection& conn, const wire::SpawnRequest& request) {
  Peer& peer = *conn.peer();
  {
    // A peer that asks but never reads its replies is disconnected, not
    // served without bound.
    MutexLock lock(peer.mu);
    if (!outbound_.make_room(peer)) return;
  }
  Pid requester = ids_.decode(conn.peer_index(), request.requester());
  Status error;
  Process* p =
      requester ? make(request.type(), &request.args_type(), request.args(), &error) : nullptr;
  if (!requester) error = Status(StatusCode::kInvalidArgument, "spawn request without a requester");
  wire::Frame frame;
  wire::SpawnReply* reply = frame.mutable_spawn_reply();
  reply->set_id(request.id());
  *reply->mutable_requester() = request.requester();
  reply->mutable_requester()->set_side(wire::RECEIVER);
  if (!p) {
    reply->set_error(error.message());
    reply->set_code(static_cast<uint32_t>(error.code()));
    outbound_.send_frame(peer, frame);
    return;
  }
  Pid child = p->pid();
  Ref ref = Ref::make(conn.peer_index(), request.id());
  reply->mutable_pid()->set_index(child.index);
  reply->mutable_pid()->set_serial(child.serial);
  reply->mutable_pid()->set_side(wire::SENDER);
  {
    // The reply is queued before the child can run, so that its exit signal
    // can never overtake it; the tables are as if the requester had sent the
    // link and the monitor.
    MutexLock lock(peer.mu);
    if (request.link()) peer.tables.apply(TieEffect::kLink, Crossing::kIn, requester, child, Ref{});
    if (request.monitor())
      peer.tables.apply(TieEffect::kWatch, Crossing::kIn, requester, child, ref);
    outbound_.queue_now(peer, frame);
  }
  spi::start_child(runtime_, p,
                   {.linked = request.link() ? requester : Pid{},
                    .monitored_by = request.monitor() ? requester : Pid{},
                    .monitor_ref = ref});
}

void RemoteSpawn::on_reply(Connection& conn, const wire::SpawnReply& reply) {
  Peer& peer = *conn.peer();
  Ref ref = Ref::make(0, reply.id());
  PendingSpawn spawn;
  Pid child = reply.has_pid() ? ids_.decode(conn.peer_index(), reply.pid()) : Pid{};
  {
    MutexLock lock(peer.mu);
    auto it = peer.tables.spawns.find(ref);
    if (it == peer.tables.spawns.end()) return;  // answered already (the node was lost)
    spawn = it->second;
    peer.tables.spawns.erase(it);
    if (child) {
      // As if the requester had sent the link and the monitor itself.
      if (spawn.options.link) {
        peer.tables.apply(TieEffect::kLink, Crossing::kOut, spawn.requester, child, Ref{});
      }
      if (spawn.options.monitor) {
        peer.tables.apply(TieEffect::kWatch, Crossing::kOut, spawn.requester, child, ref);
      }
    }
  }
  if (!child) {
    StatusCode code =
        reply.code() != 0 ? static_cast<StatusCode>(reply.code()) : StatusCode::kInvalidArgument;
    (void)runtime_.send(spawn.requester, SpawnReply{ref, Pid{}, Status(code, reply.error())});
    return;
  }
  if (spawn.options.link) {
    spi::signal<NoPayload>(runtime_, spawn.requester, EnvelopeKind::kLink, child, Ref{});
  }
  if (spawn.options.monitor) {
    spi::signal<NoPayload>(runtime_, spawn.requester, EnvelopeKind::kMonitorAdopt, child, ref);
  }
  (void)runtime_.send(spawn.requester, SpawnReply{ref, child, Status::OK()});
}

}  // namespace plexus::detail

#include "record_codec.h"

#include "plexus/node/node.h"
#include "plexus/pid.pb.h"

namespace plexus::hub::detail {

namespace {

Status invalid(const std::string& what) { return Status(StatusCode::kInvalidArgument, what); }

RestartProto to_proto(Restart r) {
  switch (r) {
    case Restart::kPermanent:
      return PERMANENT;
    case Restart::kTransient:
      return TRANSIENT;
    case Restart::kTemporary:
      return TEMPORARY;
  }
  return PERMANENT;
}

}  // namespace

void encode(const strategies::View& view, ViewProto* out) {
  out->set_number(view.number());
  for (const strategies::Member& m : view.members()) {
    MemberProto* member = out->add_members();
    member->set_node(m.node);
    member->set_creation(m.creation);
  }
}

Result<strategies::View> decode(const ViewProto& proto) {
  std::vector<strategies::Member> members;
  members.reserve(proto.members_size());
  for (const MemberProto& m : proto.members()) {
    if (m.node().empty() || m.creation() == 0) {
      return invalid("view " + std::to_string(proto.number()) + " has a member without a " +
                     (m.node().empty() ? "name" : "creation"));
    }
    members.push_back({m.node(), m.creation()});
  }
  return strategies::View(proto.number(), std::move(members));
}

void encode(const ChildSpec& spec, ChildSpecProto* out) {
  out->set_id(spec.id);
  out->set_type(spec.type);
  out->set_init_args(spec.init_args);
  out->set_restart(to_proto(spec.restart));
  out->set_shutdown_ms(static_cast<uint64_t>(spec.shutdown.count()));
  for (const auto& [key, value] : spec.metadata) (*out->mutable_metadata())[key] = value;
}

Result<std::shared_ptr<const ChildSpec>> decode(const ChildSpecProto& s) {
  if (!RestartProto_IsValid(s.restart())) return invalid("unknown restart type");
  if (s.shutdown_ms() > static_cast<uint64_t>(INT64_MAX)) return invalid("shutdown out of range");
  auto spec = std::make_shared<ChildSpec>();
  spec->id = s.id();
  spec->type = s.type();
  spec->init_args = s.init_args();
  spec->restart = s.restart() == TRANSIENT   ? Restart::kTransient
                  : s.restart() == TEMPORARY ? Restart::kTemporary
                                             : Restart::kPermanent;
  spec->shutdown = std::chrono::milliseconds(static_cast<int64_t>(s.shutdown_ms()));
  spec->metadata.insert(s.metadata().begin(), s.metadata().end());
  return std::shared_ptr<const ChildSpec>(std::move(spec));
}

void encode(const ChildRecord& record, const Node& node, ChildRecordProto* out, bool with_spec) {
  out->set_id(record.id);
  out->set_epoch(record.epoch);
  out->set_origin(record.origin);
  out->set_stamp(record.stamp);
  out->set_tombstone(record.tombstone);
  if (record.spec && with_spec) encode(*record.spec, out->mutable_spec());
  for (Pid pid : record.pids) node.to_proto(pid, out->add_pids());
  if (record.placement) {
    for (const std::string& n : *record.placement) out->add_placement(n);
  }
}

Result<RecordPtr> decode(const ChildRecordProto& proto, Node& node,
                         const strategies::Segments& segments,
                         std::shared_ptr<const ChildSpec> spec) {
  if (proto.id().empty()) return invalid("a child record without an id");
  const std::string what = "child record " + proto.id() + ": ";
  auto record = std::make_shared<ChildRecord>();
  record->id = proto.id();
  record->segment = segments.of(record->id);
  record->epoch = proto.epoch();
  record->origin = proto.origin();
  record->stamp = proto.stamp();
  record->tombstone = proto.tombstone();
  if (proto.has_spec()) {
    Result<std::shared_ptr<const ChildSpec>> decoded = decode(proto.spec());
    if (!decoded.ok()) return invalid(what + decoded.status().message());
    record->spec = std::move(*decoded);
  } else if (!record->tombstone) {
    record->spec = std::move(spec);
  }
  if (!record->tombstone && (!record->spec || record->spec->type.empty())) {
    return invalid(what + "a live record needs a spec with a type");
  }
  std::vector<Pid> pids;
  pids.reserve(proto.pids_size());
  for (const PidProto& p : proto.pids()) {
    Result<Pid> pid = node.from_proto(p);
    if (!pid.ok()) return invalid(what + pid.status().message());
    pids.push_back(*pid);
  }
  record->pids = PidList(pids);
  if (proto.placement_size() > 0) {
    record->placement = plexus::detail::Indirect<std::vector<std::string>>(
        std::vector<std::string>(proto.placement().begin(), proto.placement().end()));
  }
  return RecordPtr(std::move(record));
}

}  // namespace plexus::hub::detail

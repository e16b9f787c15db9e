// The wire form of views and child records (proto/plexus/hub.proto).
#pragma once

#include "plexus/hub.pb.h"
#include "plexus/status.h"
#include "plexus/strategies/segments.h"
#include "plexus/strategies/view.h"
#include "registry.h"

namespace plexus {
class Node;
}

namespace plexus::hub::detail {

void encode(const strategies::View& view, ViewProto* out);
// Refuses a view with a member of an empty name or a zero creation.
Result<strategies::View> decode(const ViewProto& proto);

void encode(const ChildSpec& spec, ChildSpecProto* out);
// Refuses an unknown restart type or a shutdown time out of range.
Result<std::shared_ptr<const ChildSpec>> decode(const ChildSpecProto& proto);

// Pids go as node name and creation (Node::to_proto), since each node numbers
// the nodes in its own table. Without the spec if `with_spec` is false: for
// an answer to the caller, which has it.
void encode(const ChildRecord& record, const Node& node, ChildRecordProto* out,
            bool with_spec = true);
// Checks what a peer could get wrong (kInvalidArgument, naming the record):
// an empty id, a live record without a spec or a type, an unknown restart
// type, a pid that names no valid node; computes the segment from the id.
// `spec`, if given, is the spec of a live record sent without one.
Result<RecordPtr> decode(const ChildRecordProto& proto, Node& node,
                         const strategies::Segments& segments,
                         std::shared_ptr<const ChildSpec> spec = nullptr);

}  // namespace plexus::hub::detail

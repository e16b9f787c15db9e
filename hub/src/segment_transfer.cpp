#include "segment_transfer.h"

#include "decider.h"
#include "message_parts.h"
#include "record_codec.h"

namespace plexus::hub::detail {

std::vector<SegmentRecords> segment_parts(const HubState& state,
                                          const std::vector<uint32_t>& segments,
                                          const SegmentRecords& header,
                                          const std::vector<uint32_t>& wanted) {
  PartCutter<SegmentRecords> cutter(state.part_bytes, header);
  std::vector<std::vector<RecordPtr>> records = state.registry.in_segments(segments);
  for (size_t i = 0; i < segments.size(); ++i) {
    cutter.current().add_segments(segments[i]);
    for (const RecordPtr& r : records[i]) {
      ChildRecordProto* p = cutter.current().add_records();
      encode(*r, state.node, p);
      cutter.added(p->ByteSizeLong());
    }
  }
  for (uint32_t s : wanted) cutter.last().add_wanted(s);
  return std::move(cutter).numbered();
}

void add_digests(const HubState& state, const Decider& decider, const std::string& member,
                 Handoff* out) {
  for (uint32_t s = 0; s < state.registry.segments().count(); ++s) {
    SegmentDigest d = state.registry.digest(s);
    if (d == SegmentDigest{} || decider.owner(s) != member) continue;
    SegmentDigestProto* p = out->add_digests();
    p->set_segment(s);
    p->set_count(d.count);
    p->set_sum(d.sum);
  }
}

}  // namespace plexus::hub::detail

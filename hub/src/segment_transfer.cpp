#include "segment_transfer.h"

#include "decider.h"
#include "record_codec.h"

namespace plexus::hub::detail {

void add_segments(const HubState& state, const std::vector<uint32_t>& segments,
                  SegmentRecords* out) {
  std::vector<std::vector<RecordPtr>> records = state.registry.in_segments(segments);
  for (size_t i = 0; i < segments.size(); ++i) {
    out->add_segments(segments[i]);
    for (const RecordPtr& r : records[i]) encode(*r, state.node, out->add_records());
  }
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

#include "anti_entropy.h"

#include "plexus/strategies/stable_hash.h"
#include "segment_transfer.h"

namespace plexus::hub::detail {

namespace {

uint32_t groups_of(const HubState& state) {
  return std::min(kDigestGroups, state.registry.segments().count());
}

std::vector<uint64_t> group_hashes(const HubState& state) {
  uint32_t groups = groups_of(state);
  std::vector<uint64_t> out(groups, 0);
  for (uint32_t s = 0; s < state.registry.segments().count(); ++s) {
    SegmentDigest d = state.registry.digest(s);
    if (d == SegmentDigest{}) continue;
    uint64_t term = d.sum ^ (d.count * 0x9e3779b97f4a7c15ULL) ^ (uint64_t{s} << 40);
    out[s % groups] += term;
  }
  return out;
}

void set_from(const HubState& state, MemberProto* from) {
  from->set_node(state.self.node);
  from->set_creation(state.self.creation);
}

}  // namespace

void QuietSegments::round(const HubState& state) {
  uint32_t count = state.registry.segments().count();
  previous_.resize(count);
  quiet_.assign(count, false);
  for (uint32_t s = 0; s < count; ++s) {
    SegmentDigest d = state.registry.digest(s);
    quiet_[s] = d == previous_[s];
    previous_[s] = d;
  }
}

DigestSummary summarize(const HubState& state) {
  DigestSummary out;
  set_from(state, out.mutable_from());
  for (uint64_t g : group_hashes(state)) out.add_groups(g);
  return out;
}

std::optional<DigestSummary> detail(const HubState& state, const DigestSummary& summary) {
  std::vector<uint64_t> mine = group_hashes(state);
  if (static_cast<size_t>(summary.groups_size()) != mine.size()) return std::nullopt;
  DigestSummary out;
  set_from(state, out.mutable_from());
  out.set_answer(true);
  uint32_t groups = groups_of(state);
  for (uint32_t g = 0; g < groups; ++g) {
    if (summary.groups(static_cast<int>(g)) == mine[g]) continue;
    for (uint32_t s = g; s < state.registry.segments().count(); s += groups) {
      SegmentDigest d = state.registry.digest(s);
      SegmentDigestProto* p = out.add_segments();
      p->set_segment(s);
      p->set_count(d.count);
      p->set_sum(d.sum);
    }
  }
  if (out.segments_size() == 0) return std::nullopt;
  return out;
}

std::vector<SegmentRecords> differing(const HubState& state, const DigestSummary& detail,
                                      const QuietSegments& quiet) {
  std::vector<uint32_t> segments;
  for (const SegmentDigestProto& p : detail.segments()) {
    if (p.segment() >= state.registry.segments().count() || !quiet.quiet(p.segment())) continue;
    if (state.registry.digest(p.segment()) != SegmentDigest{p.count(), p.sum()}) {
      segments.push_back(p.segment());
    }
  }
  if (segments.empty()) return {};
  SegmentRecords header;
  set_from(state, header.mutable_from());
  return segment_parts(state, segments, header, segments);
}

}  // namespace plexus::hub::detail

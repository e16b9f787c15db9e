// HubServer's records: the changes its decider commits and those it takes
// in (pubsub or gossip, hub/src/gossip_relay.h), and anti-entropy.
#include <google/protobuf/io/coded_stream.h>

#include <algorithm>

#include "anti_entropy.h"
#include "hub_server.h"
#include "message_parts.h"
#include "record_codec.h"
#include "segment_transfer.h"

namespace plexus::hub::detail {

RecordPtr HubServer::decode_or_log(const ChildRecordProto& proto) {
  Result<RecordPtr> r = decode(proto, s_.node, s_.registry.segments());
  if (r.ok()) return *r;
  self().runtime().log(LogLevel::kWarning,
                       "hub " + s_.config.hub_id + ": dropped a record: " + r.status().message());
  return nullptr;
}

void HubServer::take_records(const google::protobuf::RepeatedPtrField<ChildRecordProto>& records) {
  for (const ChildRecordProto& p : records) {
    if (RecordPtr r = decode_or_log(p)) {
      apply(r);
      decider_.learned(r);
    }
  }
}

// ---- Changes (RecordsDelta) and their way to every member

void HubServer::send_delta() {
  // A turn's changes (100,000 starts in one call) go as several changes of
  // about part_bytes each; every record stands alone.
  RecordsDelta header;
  header.set_view(decider_.view().number());
  PartCutter<RecordsDelta> cutter(s_.part_bytes, std::move(header));
  for (const RecordPtr& r : delta_) {
    ChildRecordProto* p = cutter.current().add_records();
    encode(*r, s_.node, p);
    cutter.added(p->ByteSizeLong());
  }
  delta_.clear();
  std::vector<std::string> peers;
  for (const strategies::Member& m : decider_.view().members()) {
    if (m.node != s_.self.node) peers.push_back(m.node);
  }
  for (RecordsDelta& part : std::move(cutter).each()) {
    auto change = std::make_shared<RecordsDelta>(std::move(part));
    if (s_.config.synchronization->acknowledged()) {
      set_from(change->mutable_origin());
      change->set_serial(++gossip_serial_);
    }
    pass_on(gossip_.originate(std::move(change), peers, self().runtime().now_ms()));
  }
}

void HubServer::pass_on(std::vector<GossipRelay::Send> sends) {
  using google::protobuf::io::CodedOutputStream;
  auto field_size = [](const std::string& s) {  // a string field numbered below 16
    return 1 + CodedOutputStream::VarintSize32(static_cast<uint32_t>(s.size())) + s.size();
  };
  const bool acknowledged = s_.config.synchronization->acknowledged();
  const RecordsDelta* sized = nullptr;
  size_t base = 0;
  std::vector<std::string> unreached;
  for (GossipRelay::Send& send : sends) {
    if (acknowledged && !is_member(send.to)) {
      // A member of the view this node does not reach (lost, not yet out
      // of the view): its part goes to the next member now, not after
      // ack_timeout.
      unreached.push_back(send.to);
      continue;
    }
    if (send.change.get() != sized) {
      sized = send.change.get();
      base = sized->ByteSizeLong();
    }
    size_t bytes = base;
    // The last send of a change that nothing waits on takes its records
    // (pubsub's last member); the others copy them.
    RecordsDelta msg = send.change.use_count() == 1
                           ? std::move(const_cast<RecordsDelta&>(*send.change))
                           : RecordsDelta(*send.change);
    for (std::string& node : send.pass_to) {
      bytes += field_size(node);
      msg.add_pass_to(std::move(node));
    }
    if (acknowledged) {
      msg.set_from(s_.self.node);
      bytes += field_size(s_.self.node);
    }
    s_.counters.record_messages_sent.fetch_add(1, std::memory_order_relaxed);
    s_.counters.record_bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
    send_to(send.to, std::move(msg));
  }
  arm_gossip_due();
  std::sort(unreached.begin(), unreached.end());
  unreached.erase(std::unique(unreached.begin(), unreached.end()), unreached.end());
  for (const std::string& node : unreached) gossip_lost(node);
}

void HubServer::on_delta(RecordsDelta& delta) {
  // Acknowledged and passed on to members this node reaches only: it can
  // send to no other (and dials no node a peer's message names).
  if (!delta.from().empty() && is_member(delta.from())) {
    GossipAck ack;
    *ack.mutable_origin() = delta.origin();
    ack.set_serial(delta.serial());
    ack.set_from(s_.self.node);
    send_to(delta.from(), std::move(ack));
  }
  if (delta.pass_to().empty() && !s_.config.synchronization->acknowledged()) {
    take_records(delta.records());  // pubsub: its decider sent it to every member
    return;
  }
  std::vector<std::string> pass_to;
  for (const std::string& node : delta.pass_to()) {
    if (is_member(node)) pass_to.push_back(node);
  }
  delta.clear_pass_to();
  delta.clear_from();
  auto change = std::make_shared<RecordsDelta>(std::move(delta));
  std::vector<GossipRelay::Send> sends;
  if (!gossip_.receive(change, std::move(pass_to), self().runtime().now_ms(), &sends)) {
    s_.counters.gossip_duplicates.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  // On first, applied after: the rest of the tree waits for no apply here.
  pass_on(std::move(sends));
  take_records(change->records());
}

void HubServer::resend(std::vector<GossipRelay::Send> sends) {
  s_.counters.gossip_resends.fetch_add(sends.size(), std::memory_order_relaxed);
  pass_on(std::move(sends));
}

bool HubServer::is_member(const std::string& node) const { return members_.count(node) > 0; }

bool HubServer::all_reached_in_view() const {
  if (!greeted_.empty()) return false;
  for (const auto& [node, member] : members_) {
    if (!cut_.count(node) && !decider_.view().contains(node)) return false;
  }
  return true;
}

GossipRelay::IsMember HubServer::reached() const {
  return [this](const std::string& node) { return is_member(node); };
}

void HubServer::on_gossip_due() {
  gossip_due_armed_ = false;
  resend(gossip_.due(self().runtime().now_ms(), reached()));
}

void HubServer::gossip_lost(const std::string& node) {
  resend(gossip_.gone(node, self().runtime().now_ms(), reached()));
}

void HubServer::arm_gossip_due() {
  if (gossip_due_armed_) return;
  std::optional<int64_t> next = gossip_.next_due();
  if (!next) return;
  gossip_due_armed_ = true;
  int64_t wait = std::max<int64_t>(0, *next - self().runtime().now_ms());
  self().runtime().send_after(self().self(), std::chrono::milliseconds(wait), GossipDue{});
}

// ---- Anti-entropy

void HubServer::on_records(const SegmentRecords& records) {
  if (records.round() != 0) {
    decider_.segment_records(records);
  } else {
    // Anti-entropy is between the members of one view. An answer to a
    // summary from this node's previous incarnation (same name) comes to
    // this one; taken alone in its first view, it would start every child
    // it names elsewhere, which the merge then keeps as the newer version.
    const strategies::Member* sender = decider_.view().find(records.from().node());
    if (!sender || sender->creation != records.from().creation()) return;
    take_records(records.records());
  }
  if (records.wanted_size() == 0) return;
  // The sender wants this node's records of those segments back.
  SegmentRecords back;
  set_from(back.mutable_from());
  back.set_view(decider_.view().number());
  back.set_round(records.round());
  back.set_answer(true);
  std::vector<uint32_t> wanted;
  for (uint32_t s : records.wanted()) {
    if (s < s_.registry.segments().count()) wanted.push_back(s);
  }
  send_parts(records.from().node(), segment_parts(s_, wanted, back));
}

void HubServer::on_summary(const DigestSummary& summary) {
  if (!members_.count(summary.from().node())) return;
  if (!summary.answer()) {
    if (std::optional<DigestSummary> d = detail(s_, summary)) {
      send_to(summary.from().node(), std::move(*d));
    }
  } else {
    send_parts(summary.from().node(), differing(s_, summary, quiet_));
  }
}

void HubServer::sync() {
  quiet_.round(s_);
  const auto& members = decider_.view().members();
  if (members.size() < 2 || !decider_.ready()) return;
  sync_next_ = (sync_next_ + 1) % members.size();
  if (members[sync_next_].node == s_.self.node) sync_next_ = (sync_next_ + 1) % members.size();
  s_.counters.sync_rounds.fetch_add(1, std::memory_order_relaxed);
  send_to(members[sync_next_].node, summarize(s_));
}

}  // namespace plexus::hub::detail

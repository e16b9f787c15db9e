#include "calls.h"

#include <map>

#include "record_codec.h"

namespace plexus::hub::detail {

Result<Pid> Calls::pid_of(const ChildErrorProto& e) {
  return e.has_pid() ? state_.node.from_proto(e.pid()) : Result<Pid>(Pid{});
}

void Calls::send(const std::string& member, StartRequest request) {
  if (member != state_.self.node && !reached_(member)) {
    // Lost, and still in the view: the next view's decider gets them.
    Parked parked{request.call(), {}, request.retry()};
    for (const ChildSpecProto& spec : request.specs()) parked.ids.push_back(spec.id());
    parked_.push_back(std::move(parked));
    return;
  }
  (void)state_.node.send(member, state_.server_name, std::move(request));
}

void Calls::send(const std::string& member, StopRequest request) {
  (void)state_.node.send(member, state_.server_name, std::move(request));
}

std::map<std::string, StartRequest> Calls::split(uint64_t call, Pending& p,
                                                 const std::vector<std::string>& ids, bool retry) {
  std::map<std::string, StartRequest> requests;
  for (const std::string& id : ids) {
    const std::string& member = decider_.owner(state_.registry.segments().of(id));
    StartRequest& r = requests[member];
    if (r.specs_size() == 0) {
      r.set_caller(state_.self.node);
      r.set_call(call);
      r.set_view(decider_.view().number());
      r.set_retry(retry);
    }
    encode(*p.specs.at(id), r.add_specs());
    if (auto m = p.start_options.child_mapping.find(id); m != p.start_options.child_mapping.end()) {
      PlacementProto* placement = r.add_mapping();
      placement->set_id(id);
      for (const std::string& n : m->second) placement->add_nodes(n);
    }
    p.decider[id] = member;
  }
  return requests;
}

void Calls::start(LocalStart call) {
  Pending p;
  p.is_start = true;
  p.start_options = call.options;
  p.start_future = std::move(call.future);
  std::vector<std::string> ids;
  for (const auto& spec : call.specs) {
    ids.push_back(spec->id);
    ++p.waiting[spec->id];
    p.specs.emplace(spec->id, spec);
  }
  std::map<std::string, StartRequest> requests = split(call.call, p, ids, false);
  launch(call.call, std::move(p), call.options.timeout, std::move(requests));
}

void Calls::stop(LocalStop call) {
  Pending p;
  p.is_start = false;
  p.stop_future = std::move(call.future);
  std::map<std::string, StopRequest> requests;
  for (const std::string& id : call.ids) {
    const std::string& member = decider_.owner(state_.registry.segments().of(id));
    StopRequest& r = requests[member];
    if (r.ids_size() == 0) {
      r.set_caller(state_.self.node);
      r.set_call(call.call);
      r.set_view(decider_.view().number());
    }
    r.add_ids(id);
    ++p.waiting[id];
    p.decider[id] = member;
  }
  launch(call.call, std::move(p), call.options.timeout, std::move(requests));
}

template <class Request>
void Calls::launch(uint64_t call, Pending p, std::chrono::milliseconds timeout,
                   std::map<std::string, Request> requests) {
  if (state_.partitioned()) {
    // In partition mode nothing starts or stops (ProcessHub's
    // {:error, :partitioned}), and no decider is asked.
    p.start_options.on_failure = OnFailure::kContinue;
    calls_.emplace(call, std::move(p));
    fail_unanswered(call, "partitioned", false);
    return;
  }
  p.timer = self_.runtime().send_after(self_.self(), timeout, CallTimeout{call});
  calls_.emplace(call, std::move(p));
  for (auto& [member, r] : requests) send(member, std::move(r));
}

void Calls::started(uint64_t call, const std::vector<RecordPtr>& records) {
  for (const RecordPtr& r : records) {
    apply_(r);
    auto it = calls_.find(call);
    if (it == calls_.end() || !awaits(call, r->id)) continue;
    it->second.start_result.started.push_back({r->id, state_.node_pids(*r)});
    answered(call, r->id);
  }
}

void Calls::start_reply(const StartReply& reply) {
  auto it = calls_.find(reply.call());
  std::vector<RecordPtr> records;
  records.reserve(reply.started_size());
  for (const ChildRecordProto& proto : reply.started()) {
    // The decider leaves out the spec: it is the one this call sent.
    std::shared_ptr<const ChildSpec> spec;
    if (it != calls_.end()) {
      if (auto s = it->second.specs.find(proto.id()); s != it->second.specs.end()) spec = s->second;
    }
    Result<RecordPtr> r = decode(proto, state_.node, state_.registry.segments(), spec);
    if (r.ok()) records.push_back(std::move(*r));
  }
  started(reply.call(), records);
  it = calls_.find(reply.call());
  for (const ChildErrorProto& e : reply.errors()) {
    if (e.has_record()) {
      Result<RecordPtr> r = decode(e.record(), state_.node, state_.registry.segments());
      if (r.ok()) apply_(*r);
    }
    if (it == calls_.end()) return;
    if (!awaits(reply.call(), e.id())) continue;
    Result<Pid> pid = pid_of(e);
    it->second.start_result.errors.push_back(
        {e.id(), e.node(), e.reason(), pid.ok() ? *pid : Pid{}});
    answered(reply.call(), e.id());
    it = calls_.find(reply.call());
  }
}

void Calls::stop_reply(const StopReply& reply) {
  auto it = calls_.find(reply.call());
  for (int i = 0; i < reply.stopped_size(); ++i) {
    Result<RecordPtr> r = decode(reply.stopped(i), state_.node, state_.registry.segments());
    if (!r.ok()) continue;
    apply_(*r);
    if (it == calls_.end()) continue;
    StoppedChild stopped{(*r)->id, {}};
    if (i < reply.nodes_size() && !reply.nodes(i).empty()) {
      const std::string& all = reply.nodes(i);
      for (size_t at = 0; at <= all.size();) {
        size_t comma = std::min(all.find(',', at), all.size());
        stopped.nodes.push_back(all.substr(at, comma - at));
        at = comma + 1;
      }
    }
    it->second.stop_result.stopped.push_back(std::move(stopped));
    answered(reply.call(), (*r)->id);
    it = calls_.find(reply.call());
  }
  for (const ChildErrorProto& e : reply.errors()) {
    if (it == calls_.end()) return;
    it->second.stop_result.errors.push_back({e.id(), e.node(), e.reason(), Pid{}});
    answered(reply.call(), e.id());
    it = calls_.find(reply.call());
  }
}

bool Calls::awaits(uint64_t call, const std::string& id) const {
  auto it = calls_.find(call);
  return it != calls_.end() && it->second.waiting.count(id) > 0;
}

void Calls::decider_lost(const std::string& node) {
  for (auto& [call, p] : calls_) {
    if (!p.is_start) continue;
    Parked retry{call, {}, true};
    for (const auto& [id, count] : p.waiting) {
      auto asked = p.decider.find(id);
      if (asked == p.decider.end() || asked->second != node) continue;
      retry.ids.insert(retry.ids.end(), static_cast<size_t>(count), id);
    }
    if (!retry.ids.empty()) parked_.push_back(std::move(retry));
  }
}

void Calls::view_changed() {
  std::vector<Parked> parked;
  parked.swap(parked_);
  for (Parked& entry : parked) {
    auto call = calls_.find(entry.call);
    if (call == calls_.end()) continue;  // answered or timed out meanwhile
    std::erase_if(entry.ids,
                  [&](const std::string& id) { return !call->second.waiting.count(id); });
    for (auto& [member, r] : split(entry.call, call->second, entry.ids, entry.retry)) {
      send(member, std::move(r));
    }
  }
}

void Calls::answered(uint64_t call, const std::string& id) {
  Pending& p = calls_.at(call);
  auto w = p.waiting.find(id);
  if (w != p.waiting.end() && --w->second <= 0) p.waiting.erase(w);
  if (p.waiting.empty()) finish(call);
}

void Calls::timeout(uint64_t call) {
  if (calls_.count(call)) fail_unanswered(call, "node_receive_timeout", true);
}

void Calls::fail_unanswered(uint64_t call, const std::string& reason, bool at_decider) {
  Pending& p = calls_.at(call);
  for (const auto& [id, count] : p.waiting) {
    for (int i = 0; i < count; ++i) {
      ChildError e{id, at_decider ? p.decider[id] : state_.self.node, reason, Pid{}};
      (p.is_start ? p.start_result.errors : p.stop_result.errors).push_back(std::move(e));
    }
  }
  p.waiting.clear();
  finish(call);
}

void Calls::finish(uint64_t call) {
  auto node = calls_.extract(call);
  Pending& p = node.mapped();
  self_.runtime().cancel_timer(p.timer);
  if (p.is_start) {
    bool roll_back = p.start_options.on_failure == OnFailure::kRollback && !p.start_result.ok() &&
                     !p.start_result.started.empty();
    if (!roll_back) {
      if (p.start_future) p.start_future->set(std::move(p.start_result));
      return;
    }
    // Stop what did start, then report the start as rolled back.
    LocalStop stop{state_.next_call.fetch_add(1), {}, {true, p.start_options.timeout}, nullptr};
    for (const StartedChild& c : p.start_result.started) stop.ids.push_back(c.id);
    uint64_t stop_call = stop.call;
    this->stop(std::move(stop));
    auto rollback = calls_.find(stop_call);
    if (rollback == calls_.end()) {
      // The stop was refused at once (partition mode): nothing rolled back.
      if (p.start_future) p.start_future->set(std::move(p.start_result));
      return;
    }
    rollback->second.rolling_back = std::move(p.start_result);
    rollback->second.rollback_future = std::move(p.start_future);
    return;
  }
  if (p.rolling_back) {
    p.rolling_back->rollback = true;
    if (p.rollback_future) p.rollback_future->set(std::move(*p.rolling_back));
    return;
  }
  if (p.stop_future) p.stop_future->set(std::move(p.stop_result));
}

void Calls::fail_all(const std::string& reason) {
  std::vector<uint64_t> ids;
  for (const auto& [call, p] : calls_) ids.push_back(call);
  for (uint64_t call : ids) {
    auto it = calls_.find(call);
    if (it == calls_.end()) continue;
    it->second.start_options.on_failure = OnFailure::kContinue;  // nothing to roll back with
    fail_unanswered(call, reason, false);
  }
}

}  // namespace plexus::hub::detail

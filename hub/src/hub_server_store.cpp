// HubServer: a durable hub's store of the children run here (hub_server.h;
// docs/hub.md, "Durable children").
#include "hub_server.h"
#include "saved_state_messages.h"

namespace plexus::hub::detail {

namespace {

bool runs_here(const ChildRecord& record) {
  for (Pid pid : record.pids) {
    if (pid.node == 0) return true;
  }
  return false;
}

}  // namespace

void HubServer::restore() {
  if (!s_.store) return;
  ChildStore::Contents contents = std::move(s_.restored);
  s_.restored = {};
  size_t live = 0;
  for (const RecordPtr& r : contents.records) {
    apply(r);
    if (!r->tombstone) ++live;
    if (auto state = contents.states.find(r->id); state != contents.states.end()) {
      restored_states_[r->id] = SavedState{
          r->id, r->epoch, r->stamp, std::make_shared<const std::string>(std::move(state->second))};
    }
  }
  s_.counters.restored_children.store(live, std::memory_order_relaxed);
  s_.counters.stored_children.store(s_.store->size(), std::memory_order_relaxed);
  self().runtime().log(LogLevel::kInfo, [&] {
    return "hub " + s_.config.hub_id + ": its store " + s_.store->path() + " gave back " +
           std::to_string(live) + " children (" + std::to_string(restored_states_.size()) +
           " with a saved state) and " + std::to_string(contents.records.size() - live) +
           " tombstones";
  });
}

void HubServer::keep(const RecordPtr& record) {
  if (!restored_states_.empty() && (record->tombstone || !record->pids.empty())) {
    // It runs (from its saved state, if it was placed where that was) or
    // it stopped: the state given back is the store's business now.
    restored_states_.erase(record->id);
  }
  if (!s_.store) return;
  if (record->tombstone ? s_.store->holds(record->id) : runs_here(*record)) {
    s_.store->put(*record, s_.node);
  } else if (!record->pids.empty() && s_.store->holds(record->id)) {
    s_.store->erase(record->id);  // it runs elsewhere now
  }
  // (A record that names no copy, as a restored one, changes nothing: the
  // child is to run again, and the store still says from what.)
}

void HubServer::keep_started(const RecordPtr& record, const std::string* saved_state) {
  if (!s_.store) return;
  // Before the decider hears of it (write_store before any answer), so
  // that no commit moving the child here reaches the node it leaves before
  // this store has it.
  s_.store->put(*record, s_.node);
  if (saved_state) s_.store->put_state(record->id, *saved_state);
}

void HubServer::forget_tombstone(const RecordPtr& tombstone) {
  if (!s_.store || !s_.store->holds(tombstone->id)) return;
  if (RecordPtr now = s_.registry.find(tombstone->id); now && now != tombstone) return;
  s_.store->erase(tombstone->id);
}

void HubServer::write_store() {
  if (!s_.store || !s_.store->pending()) return;
  if (Status written = s_.store->write(); !written.ok()) {
    s_.counters.store_write_errors.fetch_add(1, std::memory_order_relaxed);
    self().runtime().log(LogLevel::kError, "hub " + s_.config.hub_id + ": " + written.message());
  }
  s_.counters.stored_children.store(s_.store->size(), std::memory_order_relaxed);
}

void HubServer::handle_call(Message& request, const From& from) {
  auto* save = request.get_if<SaveState>();
  if (!save) {
    // A call of a type it does not serve: a bug of the caller's, which
    // times out; the hub runs on.
    self().runtime().log(LogLevel::kWarning, "hub " + s_.config.hub_id +
                                                 ": a call of an unknown type from " +
                                                 from.pid.to_string() + " is ignored");
    return;
  }
  Status status;
  if (!s_.store) {
    status = Status(StatusCode::kInvalidArgument, "hub " + s_.config.hub_id + " keeps no store");
  } else if (supervisor_->running_pid(save->child_id) != from.pid ||
             supervisor_->has_handed_over(save->child_id) || !s_.store->holds(save->child_id)) {
    status = Status(StatusCode::kNotFound,
                    "the caller is not the copy of child '" + save->child_id + "' that runs here");
  } else {
    s_.store->put_state(save->child_id, save->state);
    if (Status written = s_.store->write(); !written.ok()) {
      s_.counters.store_write_errors.fetch_add(1, std::memory_order_relaxed);
      status = written;
    }
  }
  (void)reply(from, StateSaved{std::move(status)});
}

std::vector<SavedState> HubServer::saved_for(const std::string& member) const {
  std::vector<SavedState> out;
  for (const auto& [id, saved] : restored_states_) {
    if (decider_.owner(s_.registry.segments().of(id)) == member) out.push_back(saved);
  }
  return out;
}

}  // namespace plexus::hub::detail

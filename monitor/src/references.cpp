#include "references.h"

namespace plexus::zen::detail {

bool References::insert(Pid subscriber, Ref ref, Pid target) {
  Shard& shard = shard_for(subscriber);
  std::lock_guard<std::mutex> lock(shard.mu);
  auto [it, first] = shard.rows.try_emplace(subscriber);
  if (it->second.emplace(ref, target).second) size_.fetch_add(1, std::memory_order_relaxed);
  return first;
}

std::optional<Pid> References::take(Pid subscriber, Ref ref) {
  Shard& shard = shard_for(subscriber);
  std::lock_guard<std::mutex> lock(shard.mu);
  return take_locked(shard, subscriber, ref);
}

std::optional<Pid> References::take_locked(Shard& shard, Pid subscriber, Ref ref) {
  auto it = shard.rows.find(subscriber);
  if (it == shard.rows.end()) return std::nullopt;
  auto row = it->second.find(ref);
  if (row == it->second.end()) return std::nullopt;
  Pid target = row->second;
  it->second.erase(row);
  size_.fetch_sub(1, std::memory_order_relaxed);
  return target;
}

std::vector<std::pair<Ref, Pid>> References::take_all(Pid subscriber) {
  std::unordered_map<Ref, Pid> rows;
  {
    Shard& shard = shard_for(subscriber);
    std::lock_guard<std::mutex> lock(shard.mu);
    auto it = shard.rows.find(subscriber);
    if (it == shard.rows.end()) return {};
    rows = std::move(it->second);
    shard.rows.erase(it);
    size_.fetch_sub(rows.size(), std::memory_order_relaxed);
  }
  return {rows.begin(), rows.end()};
}

}  // namespace plexus::zen::detail

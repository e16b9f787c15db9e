#include "registry.h"

#include <mutex>

namespace plexus::detail {

Status Registry::add(const std::string& name, Pid pid) {
  if (name.empty()) return Status(StatusCode::kInvalidArgument, "empty name");
  std::unique_lock lock(mu_);
  if (by_name_.count(name))
    return Status(StatusCode::kAlreadyExists, "name '" + name + "' is taken");
  if (by_pid_.count(pid))
    return Status(StatusCode::kAlreadyExists, pid.to_string() + " already has a name");
  by_name_.emplace(name, pid);
  by_pid_.emplace(pid, name);
  return Status::OK();
}

Status Registry::remove(const std::string& name) {
  std::unique_lock lock(mu_);
  auto it = by_name_.find(name);
  if (it == by_name_.end())
    return Status(StatusCode::kNotFound, "name '" + name + "' is not registered");
  by_pid_.erase(it->second);
  by_name_.erase(it);
  return Status::OK();
}

void Registry::remove_pid(Pid pid) {
  std::unique_lock lock(mu_);
  auto it = by_pid_.find(pid);
  if (it == by_pid_.end()) return;
  by_name_.erase(it->second);
  by_pid_.erase(it);
}

Pid Registry::find(const std::string& name) const {
  std::shared_lock lock(mu_);
  auto it = by_name_.find(name);
  return it == by_name_.end() ? Pid{} : it->second;
}

std::string Registry::name_of(Pid pid) const {
  std::shared_lock lock(mu_);
  auto it = by_pid_.find(pid);
  return it == by_pid_.end() ? std::string() : it->second;
}

}  // namespace plexus::detail

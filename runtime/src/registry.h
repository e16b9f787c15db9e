// Registered names: name -> pid, as erlang:register/2.
#pragma once

#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "plexus/pid.h"
#include "plexus/status.h"

namespace plexus::detail {

// Thread-safe. A process has at most one name and a name at most one process.
class Registry {
 public:
  Status add(const std::string& name, Pid pid);
  Status remove(const std::string& name);
  // Removes whatever name `pid` has (at its exit).
  void remove_pid(Pid pid);
  Pid find(const std::string& name) const;
  // The name of `pid`; empty if it has none.
  std::string name_of(Pid pid) const;

 private:
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Pid> by_name_;
  std::unordered_map<Pid, std::string> by_pid_;
};

}  // namespace plexus::detail

#include "plexus/hub/pid_list.h"

namespace plexus::hub {

PidList::PidList(const std::vector<Pid>& pids) {
  std::vector<Pid> rest;
  for (Pid pid : pids) {
    if (!pid) continue;
    if (!first_) {
      first_ = pid;
    } else {
      rest.push_back(pid);
    }
  }
  if (!rest.empty()) rest_ = plexus::detail::Indirect<std::vector<Pid>>(std::move(rest));
}

std::vector<Pid> PidList::to_vector() const {
  std::vector<Pid> out;
  out.reserve(size());
  for (Pid pid : *this) out.push_back(pid);
  return out;
}

}  // namespace plexus::hub

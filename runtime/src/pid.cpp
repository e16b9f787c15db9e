#include "plexus/pid.h"

namespace plexus {

// Erlang counts a slot's incarnations from 0 in the printed form; the stored
// serial starts at 1 so that 0 can mean "no process".
std::string Pid::to_string() const {
  if (!valid()) return "<none>";
  return "<" + std::to_string(node & 0xFFFF) + "." + std::to_string(index) + "." +
         std::to_string(serial - 1) + ">";
}

std::ostream& operator<<(std::ostream& os, const Pid& pid) { return os << pid.to_string(); }

std::string Ref::to_string() const {
  return "#Ref<" + std::to_string(node()) + "." + std::to_string(counter()) + ">";
}

std::ostream& operator<<(std::ostream& os, const Ref& ref) { return os << ref.to_string(); }

}  // namespace plexus

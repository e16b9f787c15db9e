// Process identifiers and monitor references.
#pragma once

#include <cstdint>
#include <functional>
#include <ostream>
#include <string>

namespace plexus {

// Identifies one process for its whole life, and never another one.
//
// `node` is 0 for the local node; for another node's process, the transport's
// number for that node's incarnation: its low 16 bits name a slot of the
// transport's node table (as Ref::node does), its high 16 bits the slot's
// generation, so a pid of an incarnation that is gone never names the one that
// took its slot. `index` is the process's slot in its node's process table
// and `serial` counts the incarnations of that slot, so a pid of an exited
// process never reaches the process that reuses its slot. A
// default-constructed Pid is the null pid: it names no process.
//
// Printed as Erlang prints pids, `<node.index.serial>`, e.g. `<0.112.0>`,
// with the node's slot.
struct Pid {
  uint32_t node = 0;
  uint32_t index = 0;
  uint32_t serial = 0;  // 0 only in the null pid; incarnations start at 1

  bool valid() const { return serial != 0; }
  explicit operator bool() const { return valid(); }

  std::string to_string() const;

  friend bool operator==(const Pid&, const Pid&) = default;
  friend auto operator<=>(const Pid&, const Pid&) = default;
};

std::ostream& operator<<(std::ostream& os, const Pid& pid);

// Names one monitor (or one call) uniquely within a runtime. The top 16 bits
// of `id` name the node that made it, as Pid::node does (0: this node), so
// refs made on different nodes never collide in one table. Printed
// `#Ref<node.N>`.
struct Ref {
  static constexpr int kNodeShift = 48;
  static constexpr uint64_t kCounterMask = (uint64_t{1} << kNodeShift) - 1;

  uint64_t id = 0;

  static Ref make(uint32_t node, uint64_t counter) {
    return Ref{uint64_t{node} << kNodeShift | (counter & kCounterMask)};
  }
  uint32_t node() const { return static_cast<uint32_t>(id >> kNodeShift); }
  uint64_t counter() const { return id & kCounterMask; }

  bool valid() const { return id != 0; }
  explicit operator bool() const { return valid(); }

  std::string to_string() const;

  friend bool operator==(const Ref&, const Ref&) = default;
  friend auto operator<=>(const Ref&, const Ref&) = default;
};

std::ostream& operator<<(std::ostream& os, const Ref& ref);

}  // namespace plexus

template <>
struct std::hash<plexus::Pid> {
  size_t operator()(const plexus::Pid& pid) const noexcept {
    uint64_t x =
        (uint64_t{pid.index} << 32 | pid.serial) ^ (uint64_t{pid.node} * 0x9E3779B97F4A7C15ull);
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    return static_cast<size_t>(x ^ (x >> 29));
  }
};

template <>
struct std::hash<plexus::Ref> {
  size_t operator()(const plexus::Ref& ref) const noexcept {
    uint64_t x = ref.id * 0x9E3779B97F4A7C15ull;
    return static_cast<size_t>(x ^ (x >> 32));
  }
};

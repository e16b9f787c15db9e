// LoopbackNetwork: nodes in one process, joined without sockets and stepped
// by the caller, with virtual time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace plexus {

// Faults a LoopbackNetwork injects into every connection, drawn from one
// generator seeded with `seed`: the same seed and the same calls give the
// same run (a failing seed replays exactly).
struct LoopbackFaults {
  uint64_t seed = 1;
  // Each write arrives after a delay drawn from [min_delay, max_delay],
  // in order per direction (as TCP keeps it), also across a change of the
  // faults while a delayed write is on its way, and a close arrives behind
  // every write before it.
  std::chrono::milliseconds min_delay{0};
  std::chrono::milliseconds max_delay{0};
  // The chance that a write is lost with its connection: both sides see the
  // connection close, as when a lost TCP connection times out. The next
  // send dials again.
  double reset = 0;
  // The chance that a message frame arrives twice, as a sender that resends
  // after a reconnect would cause. Only messages (no signal, no handshake
  // frame, none that numbers a new type) are duplicated.
  double duplicate = 0;
};

namespace detail {
class LoopbackNetworkImpl;
class LoopbackBackend;
}  // namespace detail

// An in-process network for Nodes (NodeOptions::loopback), for tests of the
// layers above the transport and for simulations of many nodes: the nodes'
// runtimes are deterministic, and nothing runs until the network is stepped.
// Everything a node does goes through the same code as over TCP (handshake,
// frames, ticks, membership, links and monitors across nodes), with the
// bytes carried in memory. The same calls in the same order give the same
// run. Single-threaded: every node of a network, and the network itself, is
// used from one thread.
//
// Drive the nodes through the network only: the blocking parts of Node
// (connect, disconnect), called from outside a process, step the network
// until they are done (from inside a process's turn they do not wait); an
// Inbox or Runtime::step would step one node's runtime alone.
//
// Nodes must be destroyed before their network.
class LoopbackNetwork {
 public:
  LoopbackNetwork();
  ~LoopbackNetwork();
  LoopbackNetwork(const LoopbackNetwork&) = delete;
  LoopbackNetwork& operator=(const LoopbackNetwork&) = delete;

  // Runs all that can run without moving time: every node's runnable
  // processes and the network's work (connections, bytes in flight, due
  // timers), until none is left. Returns the steps run; stops after
  // `max_steps` (a livelock guard).
  size_t run_until_idle(size_t max_steps = SIZE_MAX);
  // Moves virtual time forward by `by`, running each timer (the runtimes'
  // and the transport's) at its time and everything it causes.
  void advance(std::chrono::milliseconds by);
  // Runs, moving time as needed, until `done()` is true or `timeout` of
  // virtual time has passed; returns done().
  bool run_until(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // Virtual milliseconds since the network was made.
  int64_t now_ms() const;

  // ---- Faults
  // Closes every connection between the nodes named `a` and `b` (both see
  // it go down) and refuses new ones, in both directions, until heal(a, b).
  void cut(const std::string& a, const std::string& b);
  void heal(const std::string& a, const std::string& b);
  // One-way loss: from now on, what `from` writes to `to` is held, as when
  // every packet from `from` to `to` is lost and TCP resends in vain. The
  // connections stay up: `to` hears nothing from `from` until its tick
  // timeout closes them, `from` still hears `to`, and no new connection
  // between the two completes its handshake (that needs both ways).
  // unmute(from, to) delivers what was held, in order, as the resent
  // packets would arrive (a side that closed meanwhile drops them); what a
  // node held when it crashed is lost with it.
  void mute(const std::string& from, const std::string& to);
  void unmute(const std::string& from, const std::string& to);
  // From now on, every write meets `faults` (all zero: none, the default).
  void set_faults(const LoopbackFaults& faults);

 private:
  friend class detail::LoopbackBackend;
  std::unique_ptr<detail::LoopbackNetworkImpl> impl_;
};

}  // namespace plexus

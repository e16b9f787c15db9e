// LoopbackBackend: a node's connections over a LoopbackNetwork, in memory.
#pragma once

#include <memory>
#include <string>

#include "backend.h"
#include "connection.h"
#include "plexus/node/loopback.h"
#include "plexus/runtime.h"

namespace plexus::detail {

class LoopbackNetworkImpl;

// The loop is the network's stepping (LoopbackNetworkImpl), on the one
// thread that uses the network; time is the network's virtual time.
class LoopbackBackend final : public Backend {
 public:
  // `runtime` is the node's (deterministic): the network steps it.
  LoopbackBackend(LoopbackNetwork& network, Runtime& runtime);
  ~LoopbackBackend() override;

  // The creation for a node about to start on `network` (replayable).
  static uint64_t creation_for(LoopbackNetwork& network);

  Result<NodeAddress> listen(const NodeAddress& address) override;
  void start(ConnectionHost& host) override;
  void stop(std::function<void()> close_connections) override;
  void end_loop() override {}

  void post(std::function<void()> fn) override;
  void post_after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  Clock::time_point now() const override;
  bool on_loop() const override;
  void run_on_loop(std::function<void()> fn) override;
  bool wait(Mutex& mu, CondVar& cv, Clock::time_point deadline) PLEXUS_REQUIRES(mu) override;

  void connect(Peer& peer, std::chrono::milliseconds timeout) override;

  // ---- For the network
  Runtime& runtime() { return runtime_; }
  // The network steps this node's runtime (not once it stops).
  bool steppable() const { return host_ != nullptr && !stopping_; }
  const std::string& name() const { return name_; }
  ConnectionHost& host() { return *host_; }
  LoopbackNetworkImpl& network() { return network_; }

 private:
  LoopbackNetworkImpl& network_;
  Runtime& runtime_;
  std::string name_;  // as registered with the network
  ConnectionHost* host_ = nullptr;
  bool stopping_ = false;
  bool joined_ = false;
};

// One side of a connection between two loopback nodes: what one side writes
// becomes readable at the other as a task of the other's.
class LoopbackConnection final : public Connection {
 public:
  LoopbackConnection(LoopbackBackend& backend, Handshake handshake, Peer* peer, std::string remote);

  void pair_with(const std::shared_ptr<LoopbackConnection>& other) { other_ = other; }
  std::string remote_address() const override { return remote_; }
  std::string remote_host() const override { return remote_; }

  // ---- From the other side (run as this side's work)
  void receive(const std::string& bytes);
  void receive_end();

  // ---- For the network
  LoopbackBackend& backend() const { return loopback_; }
  // Sends on what this side wrote while muted (and its close, if it
  // closed): the network unmuted its direction.
  void release();

 private:
  void read_some(uint8_t* into, size_t size) override;
  void write_all(const std::string& bytes) override;
  void close_stream() override;
  // Sends `bytes` to `other` through the network's faults: false if the
  // network lost them with the connection.
  bool transmit(const std::shared_ptr<LoopbackConnection>& other, const std::string& bytes);
  // True while what this side writes must wait (LoopbackNetwork::mute):
  // its direction is muted, or something written before still waits.
  bool holding() const;
  // Completes the pending read with what has arrived, if anything has.
  void complete_read();
  // Runs `arrive` on `other`'s node after this side's earlier writes have
  // arrived, and `delay_ms` from now at the earliest: in order per direction,
  // as TCP keeps it.
  void carry(const std::shared_ptr<LoopbackConnection>& other, int64_t delay_ms,
             std::function<void()> arrive);

  LoopbackBackend& loopback_;
  std::string remote_;
  std::weak_ptr<LoopbackConnection> other_;
  std::string arrived_;           // received, not yet read
  uint8_t* read_into_ = nullptr;  // the pending read, if any
  size_t read_size_ = 0;
  bool ended_ = false;      // the other side closed
  int64_t arrives_at_ = 0;  // when this side's last write arrives (network time)
  // What the other side wrote that is still on the network's timers: while
  // any is, what it writes next goes through them too, or it would overtake
  // (faults changed while a delayed write was on its way).
  int timed_toward_ = 0;
  std::string held_;       // written while muted, not yet sent on
  bool held_end_ = false;  // closed while muted: the close waits behind held_
};

}  // namespace plexus::detail

// A Batcher: the deaths one subscribing node is owed.
#pragma once

#include <deque>
#include <memory>

#include "plexus/server.h"
#include "state.h"

namespace plexus::zen::detail {

// Started by the Proxy for each subscribing Connector, linked to the Proxy.
// Collects the deaths of the Connector's targets and sends them back every
// batcher_sweep_interval, batcher_chunk_size at a time, in one Dead message
// that names each distinct reason once. It monitors the Connector: when the
// Connector (or its node) is gone it tells the Proxy to purge its rows, and
// exits.
class Batcher : public Server {
 public:
  Batcher(std::shared_ptr<State> state, Pid subscriber, Pid proxy)
      : state_(std::move(state)), subscriber_(subscriber), proxy_(proxy) {}

  Status init() override;
  void handle_info(Message& msg) override;

 private:
  void sweep();

  std::shared_ptr<State> state_;
  const Pid subscriber_;
  const Pid proxy_;
  Ref subscriber_monitor_;
  std::deque<Death> batch_;
};

}  // namespace plexus::zen::detail

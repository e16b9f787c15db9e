// Probe: a Server whose init() and exit behaviour a test chooses, and which
// tells an observer what happened to it (for the start and parent tests).
#pragma once

#include <stdexcept>
#include <utility>

#include "plexus/plexus.h"
#include "test_support.h"

namespace plexus_test {

struct InitRan {
  Pid pid;
};
struct Terminated {
  Pid pid;
  ExitReason reason;
};
struct InfoSeen {
  Pid pid;
};

struct ProbeOptions {
  bool trap_exit = false;
  plexus::Status init = plexus::Status::OK();  // what init() returns
  bool throw_in_init = false;
};

class Probe : public plexus::Server {
 public:
  Probe(Pid observer, ProbeOptions options) : observer_(observer), options_(std::move(options)) {}

  plexus::Status init() override {
    self().send(observer_, InitRan{self().self()});
    if (options_.throw_in_init) throw std::runtime_error("init threw");
    if (options_.trap_exit) self().trap_exit(true);
    return options_.init;
  }
  void handle_info(plexus::Message& msg) override {
    if (msg.is<Exit>()) self().send(observer_, InfoSeen{self().self()});
  }
  void terminate(const ExitReason& reason) override {
    self().send(observer_, Terminated{self().self(), reason});
  }

 private:
  Pid observer_;
  ProbeOptions options_;
};

}  // namespace plexus_test

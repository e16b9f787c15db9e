// Helpers for the multi-node tests: nodes on 127.0.0.1 with free ports.
#pragma once

#include <gtest/gtest.h>

#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "plexus/node/node.h"
#include "plexus/pid.pb.h"
#include "plexus_test/messages.pb.h"
#include "test_support.h"

namespace plexus_test {

using plexus::Node;
using plexus::NodeDown;
using plexus::NodeOptions;
using plexus::NodeUp;

inline constexpr char kCookie[] = "test-cookie";

inline NodeOptions node_options(const std::string& base, std::vector<std::string> seeds = {},
                                LogCapture* logs = nullptr) {
  NodeOptions options;
  options.name = base + "@127.0.0.1:0";
  options.cookie = kCookie;
  options.seeds = std::move(seeds);
  options.tick_timeout = 1000ms;
  options.connect_timeout = 2000ms;
  options.runtime = runtime_options(Sched::kThreaded, logs);
  return options;
}

// A started node, or a failed test.
inline std::unique_ptr<Node> start_node(NodeOptions options) {
  auto node = Node::start(std::move(options));
  if (!node.ok()) throw std::runtime_error("node did not start: " + node.status().to_string());
  return std::move(*node);
}

inline std::unique_ptr<Node> start_node(const std::string& base,
                                        std::vector<std::string> seeds = {},
                                        LogCapture* logs = nullptr) {
  return start_node(node_options(base, std::move(seeds), logs));
}

// Waits until `node` is connected to exactly the nodes named in `expected`.
inline bool wait_for_nodes(Node& node, std::vector<std::string> expected,
                           std::chrono::milliseconds timeout = kWait) {
  std::sort(expected.begin(), expected.end());
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    std::vector<std::string> now = node.nodes();
    std::sort(now.begin(), now.end());
    if (now == expected) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(5ms);
  }
}

// Two nodes in this process, a and b, connected; their logs are printed if
// the test fails.
class TwoNodeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    a_ = start_node("a", {}, &logs_a_);
    b_ = start_node("b", {}, &logs_b_);
    ASSERT_TRUE(a_->connect(b_->name()).ok());
  }
  void TearDown() override {
    if (HasFailure()) {
      std::cerr << "--- node a log:\n" << logs_a_.dump() << "--- node b log:\n" << logs_b_.dump();
    }
  }

  // A pid of node b, as node a sees it.
  Pid seen_from_a(Pid on_b) {
    plexus::PidProto proto;
    b_->to_proto(on_b, &proto);
    auto pid = a_->from_proto(proto);
    EXPECT_TRUE(pid.ok());
    return *pid;
  }

  LogCapture logs_a_;
  LogCapture logs_b_;
  std::unique_ptr<Node> a_;
  std::unique_ptr<Node> b_;
};

inline plexus_test::Text text(const std::string& s) {
  plexus_test::Text t;
  t.set_text(s);
  return t;
}

}  // namespace plexus_test

// Nodes with mutual TLS: both sides present a certificate signed by the
// cluster's CA, on top of the cookie handshake.
#include <gtest/gtest.h>

#include "node_test_support.h"

namespace plexus_test {
namespace {

using plexus::PidProto;
using plexus::TlsOptions;

std::string tls_file(const std::string& name) {
  return std::string(PLEXUS_TEST_DATA_DIR) + "/tls/" + name;
}

TlsOptions cluster_tls() {
  return TlsOptions{tls_file("cluster-ca.pem"), tls_file("node.pem"), tls_file("node.key")};
}

NodeOptions tls_node(const std::string& base, LogCapture* logs, TlsOptions tls = cluster_tls()) {
  NodeOptions options = node_options(base, {}, logs);
  options.tls = std::move(tls);
  return options;
}

TEST(NodeTlsTest, NodesWithClusterCertificatesTalkOverTls) {
  LogCapture logs;
  auto a = start_node(tls_node("a", &logs));
  auto b = start_node(tls_node("b", &logs));
  ASSERT_TRUE(a->connect(b->name()).ok()) << logs.dump();
  Inbox in_b(b->runtime());
  PidProto pb;
  b->to_proto(in_b.pid(), &pb);
  Pid to = *a->from_proto(pb);
  ASSERT_TRUE(a->runtime().send(to, text("over tls")).ok());
  EXPECT_EQ(must_receive<Text>(in_b).text(), "over tls");
  // Signals cross too: a monitor, then the Down of a process that exits.
  Pid quitter = b->runtime().spawn([](Context self) -> Task<> {
    co_await self.receive<Text>();
    self.exit(ExitReason::error("done"));
  });
  PidProto pq;
  b->to_proto(quitter, &pq);
  Pid remote_quitter = *a->from_proto(pq);
  Inbox watcher(a->runtime());
  Ref ref = watcher.context().monitor(remote_quitter);
  ASSERT_TRUE(a->runtime().send(remote_quitter, text("quit")).ok());
  EXPECT_EQ(must_receive_down(watcher, ref).reason, ExitReason::error("done"));
}

TEST(NodeTlsTest, ACertificateFromAnotherCaIsRefused) {
  LogCapture logs;
  auto a = start_node(tls_node("a", &logs));
  auto intruder = start_node(tls_node(
      "intruder", &logs,
      TlsOptions{tls_file("rogue-ca.pem"), tls_file("intruder.pem"), tls_file("intruder.key")}));
  auto status = intruder->connect(a->name());
  EXPECT_FALSE(status.ok());
  EXPECT_TRUE(logs.wait_for(LogLevel::kWarning, {"TLS handshake failed"})) << logs.dump();
  EXPECT_TRUE(a->nodes().empty());
  // a still serves its cluster.
  auto b = start_node(tls_node("b", &logs));
  EXPECT_TRUE(b->connect(a->name()).ok()) << logs.dump();
}

TEST(NodeTlsTest, APlainNodeCannotJoinATlsCluster) {
  LogCapture logs;
  auto a = start_node(tls_node("a", &logs));
  auto plain = start_node(node_options("plain", {}, &logs));
  EXPECT_FALSE(plain->connect(a->name()).ok());
  EXPECT_TRUE(a->nodes().empty());
}

TEST(NodeTlsTest, UnreadableCertificateFilesFailTheStart) {
  NodeOptions options =
      tls_node("a", nullptr,
               TlsOptions{tls_file("missing-ca.pem"), tls_file("node.pem"), tls_file("node.key")});
  auto node = Node::start(options);
  ASSERT_FALSE(node.ok());
  EXPECT_EQ(node.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(node.status().message().find("TLS"), std::string::npos) << node.status();
}

}  // namespace
}  // namespace plexus_test

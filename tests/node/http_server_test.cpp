// HttpServer: GET and HEAD of exact paths on a node's I/O thread, and what it
// refuses; and the transport's metrics, read through it.
#include "plexus/node/http_server.h"

#include <gtest/gtest.h>

#include "http_client.h"
#include "plexus/node/loopback.h"
#include "raw_peer.h"

namespace plexus_test {
namespace {

using plexus::HttpResponse;
using plexus::HttpServer;
using plexus::HttpServerOptions;

class HttpServerTest : public ::testing::Test {
 protected:
  void SetUp() override { node_ = start_node("web", {}, &logs_); }
  void TearDown() override {
    server_.reset();  // before the node
    node_.reset();
  }

  HttpServer& serve(HttpServerOptions options) {
    auto started = HttpServer::start(*node_, std::move(options));
    EXPECT_TRUE(started.ok()) << started.status();
    server_ = std::move(*started);
    return *server_;
  }
  HttpServerOptions hello_routes() {
    HttpServerOptions options;
    options.routes["/hello"] = [](std::string_view query) {
      return HttpResponse{200, "text/plain", "hello " + std::string(query)};
    };
    options.routes["/fails"] = [](std::string_view) -> HttpResponse {
      throw std::runtime_error("on purpose");
    };
    return options;
  }

  LogCapture logs_;
  std::unique_ptr<plexus::Node> node_;
  std::unique_ptr<HttpServer> server_;
};

TEST_F(HttpServerTest, AnswersAGetOfARouteWithItsQuery) {
  uint16_t port = serve(hello_routes()).port();
  ASSERT_NE(port, 0);
  auto reply = http_get(port, "/hello?you");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->body, "hello you");
  EXPECT_EQ(reply->header("content-type"), "text/plain");
  EXPECT_EQ(reply->header("Cache-Control"), "no-store");
}

TEST_F(HttpServerTest, HeadGivesTheLengthWithoutTheBody) {
  uint16_t port = serve(hello_routes()).port();
  auto reply = http_get(port, "/hello?abc", "HEAD");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->header("Content-Length"), "9");
  EXPECT_EQ(reply->body, "");
}

TEST_F(HttpServerTest, RefusesOtherMethodsUnknownPathsAndBodies) {
  uint16_t port = serve(hello_routes()).port();
  auto post = http_get(port, "/hello", "POST");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->header("Allow"), "GET, HEAD");
  auto missing = http_get(port, "/nowhere");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
  auto with_body =
      http_exchange(port, "GET /hello HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello");
  ASSERT_TRUE(with_body);
  EXPECT_EQ(with_body->status, 413);
  auto garbage = http_exchange(port, "THIS IS NOT HTTP\r\n\r\n");
  ASSERT_TRUE(garbage);
  EXPECT_EQ(garbage->status, 400);
  auto huge =
      http_exchange(port, "GET /hello HTTP/1.1\r\nX-Big: " + std::string(9000, 'x') + "\r\n\r\n");
  ASSERT_TRUE(huge);
  EXPECT_EQ(huge->status, 431);
  // And it still serves.
  auto reply = http_get(port, "/hello");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(HttpServerTest, AHandlerThatThrowsIsA500AndTheServerGoesOn) {
  uint16_t port = serve(hello_routes()).port();
  auto failed = http_get(port, "/fails");
  ASSERT_TRUE(failed);
  EXPECT_EQ(failed->status, 500);
  EXPECT_NE(failed->body.find("on purpose"), std::string::npos);
  auto reply = http_get(port, "/hello");
  ASSERT_TRUE(reply);
  EXPECT_EQ(reply->status, 200);
}

TEST_F(HttpServerTest, KeepsAConnectionAliveForTheNextRequest) {
  uint16_t port = serve(hello_routes()).port();
  auto both = http_exchange(port,
                            "GET /hello?1 HTTP/1.1\r\nHost: x\r\n\r\n"
                            "GET /hello?2 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  ASSERT_TRUE(both);
  EXPECT_EQ(both->status, 200);
  EXPECT_NE(both->body.find("hello 1"), std::string::npos) << both->body;
  EXPECT_NE(both->body.find("hello 2"), std::string::npos) << both->body;
}

TEST_F(HttpServerTest, ClosesAConnectionIdleForTooLong) {
  HttpServerOptions options = hello_routes();
  options.idle_timeout = std::chrono::milliseconds(200);
  uint16_t port = serve(std::move(options)).port();
  auto start = std::chrono::steady_clock::now();
  // Half a request, then nothing: the server gives up on it.
  auto reply = http_exchange(port, "GET /hello HTTP/1.1\r\n", std::chrono::seconds(10));
  EXPECT_FALSE(reply);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST_F(HttpServerTest, ClosesConnectionsBeyondTheCap) {
  HttpServerOptions options = hello_routes();
  options.max_connections = 1;
  uint16_t port = serve(std::move(options)).port();
  int held = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(held, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  // The held connection is accepted first: a request on it is answered
  // once the one beyond the cap has been turned away.
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) refused = !http_get(port, "/hello");
  EXPECT_TRUE(refused);
  ::close(held);
  EXPECT_TRUE(poll_until([&] { return http_get(port, "/hello").has_value(); }));
}

TEST_F(HttpServerTest, RefusesBadOptionsAPortInUseAndALoopbackNode) {
  HttpServerOptions none;
  EXPECT_EQ(HttpServer::start(*node_, none).status().code(), StatusCode::kInvalidArgument);
  HttpServerOptions bad_address = hello_routes();
  bad_address.address = "not-an-address";
  EXPECT_EQ(HttpServer::start(*node_, bad_address).status().code(), StatusCode::kInvalidArgument);
  uint16_t port = serve(hello_routes()).port();
  HttpServerOptions same_port = hello_routes();
  same_port.port = port;
  auto second = HttpServer::start(*node_, same_port);
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find(std::to_string(port)), std::string::npos);

  plexus::LoopbackNetwork network;
  NodeOptions loopback;
  loopback.name = "l@loop:1";
  loopback.cookie = kCookie;
  loopback.loopback = &network;
  loopback.runtime.deterministic = true;
  auto looped = start_node(loopback);
  EXPECT_EQ(HttpServer::start(*looped, hello_routes()).status().code(),
            StatusCode::kInvalidArgument);
}

// The transport's figures: a peer's row appears with its connection, and
// counts what crossed it.
TEST_F(HttpServerTest, ServesTheNodesMetrics) {
  HttpServerOptions options;
  options.routes["/metrics"] = [this](std::string_view) {
    plexus::MetricsWriter writer;
    node_->runtime().metrics().collect(writer);
    return HttpResponse{200, "text/plain; version=0.0.4",
                        writer.prometheus({{"node", node_->name()}})};
  };
  uint16_t port = serve(std::move(options)).port();
  auto other = start_node("peer", {node_->name()});
  ASSERT_TRUE(wait_for_nodes(*node_, {other->name()}));
  auto reply = http_get(port, "/metrics");
  ASSERT_TRUE(reply);
  const std::string& text = reply->body;
  std::string labels = "{node=\"" + node_->name() + "\",peer=\"" + other->name() + "\"}";
  EXPECT_NE(text.find("plexus_node_peer_up" + labels + " 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("plexus_node_peers_connected{node=\"" + node_->name() + "\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("# TYPE plexus_node_peer_bytes_in_total counter"), std::string::npos);
  EXPECT_NE(text.find("plexus_processes{node="), std::string::npos);
  plexus::MetricsWriter writer;
  node_->runtime().metrics().collect(writer);
  EXPECT_EQ(writer.rejected(), 0u);
  EXPECT_GE(*writer.value("plexus_node_up_events_total"), 1);
  EXPECT_GT(*writer.value("plexus_node_peer_bytes_in_total", {{"peer", other->name()}}), 0);
  std::string other_name = other->name();
  other.reset();
  EXPECT_TRUE(poll_until([&] {
    plexus::MetricsWriter w;
    node_->runtime().metrics().collect(w);
    return w.value("plexus_node_peer_up", {{"peer", other_name}}) == 0 &&
           w.value("plexus_node_down_events_total") >= 1;
  }));
}

}  // namespace
}  // namespace plexus_test

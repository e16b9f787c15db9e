// HttpServer: a small read-only HTTP/1.1 server on a node's own I/O thread,
// for what an operator reads of a running node (/metrics, /healthz, /readyz,
// a dashboard). It serves GET and HEAD of exact paths, nothing else.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "plexus/status.h"

namespace plexus {

class Node;

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

// Answers one request for its path. `query` is what follows '?' in the
// target ("" if nothing). Runs on the node's I/O thread, which also carries
// every connection to the peers: it must not block, and should be quick.
// An exception it throws is answered with 500.
using HttpHandler = std::function<HttpResponse(std::string_view query)>;

struct HttpServerOptions {
  // 127.0.0.1 unless told otherwise: what it serves is for the operator.
  std::string address = "127.0.0.1";
  uint16_t port = 0;  // 0: any free port (HttpServer::port says which)
  // Exact path ("/metrics") -> its handler. Any other path is a 404.
  std::map<std::string, HttpHandler, std::less<>> routes;
  // Connections open at once; one more is closed as soon as it is accepted.
  size_t max_connections = 64;
  // A connection that sends no complete request for this long is closed.
  std::chrono::milliseconds idle_timeout{30'000};
  // A request's header (request line included) may be at most this long;
  // a longer one is answered with 431 and the connection closed.
  size_t max_header_bytes = 8 * 1024;
};

class HttpServer {
 public:
  // Listens on options.address:options.port, on the I/O thread of `node`, a
  // TCP node. Fails with kInvalidArgument on a loopback node, an empty route
  // table or an address that does not parse, and with kUnavailable on a port
  // in use. The server must be destroyed before the node.
  static Result<std::unique_ptr<HttpServer>> start(Node& node, HttpServerOptions options);
  // Stops listening and closes every connection; returns once that is done
  // on the I/O thread (never call it there).
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // The port bound.
  uint16_t port() const;

  struct State;  // http_server.cpp

 private:
  HttpServer(Node& node, std::shared_ptr<State> state);
  Node& node_;
  std::shared_ptr<State> state_;
};

}  // namespace plexus

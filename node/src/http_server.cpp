#include "plexus/node/http_server.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <unordered_set>

#include "node_impl.h"
#include "plexus/node/node.h"
#include "tcp_backend.h"

namespace plexus {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {
class Session;
}  // namespace

// Everything below lives on the node's I/O thread: the acceptor, the open
// sessions and every handler run there, so none of it needs a lock. The
// HttpServer only posts its close to that thread.
struct HttpServer::State : std::enable_shared_from_this<HttpServer::State> {
  State(asio::io_context& io, HttpServerOptions options_in)
      : acceptor(io), options(std::move(options_in)) {}

  void accept_next();
  void close();

  tcp::acceptor acceptor;
  const HttpServerOptions options;
  uint16_t port = 0;
  bool closed = false;
  std::unordered_set<Session*> sessions;
};

namespace {

// One connection: read a request, answer it, and again while the client
// keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(std::shared_ptr<HttpServer::State> server, tcp::socket socket)
      : server_(std::move(server)), stream_(std::move(socket)) {}

  void start() {
    server_->sessions.insert(this);
    read_next();
  }

  void close() {
    beast::error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

 private:
  void read_next() {
    parser_.emplace();
    parser_->header_limit(static_cast<uint32_t>(server_->options.max_header_bytes));
    parser_->body_limit(0);  // GET and HEAD only: no request has a body
    stream_.expires_after(server_->options.idle_timeout);
    http::async_read(
        stream_, buffer_, *parser_,
        [self = shared_from_this()](beast::error_code ec, size_t) { self->on_read(ec); });
  }

  void on_read(beast::error_code ec) {
    if (ec == http::error::end_of_stream || ec == beast::error::timeout ||
        ec == asio::error::operation_aborted || server_->closed) {
      return finish();
    }
    if (ec == http::error::header_limit) {
      return reply(error_response(431, "request header too large\n"), /*keep_alive=*/false);
    }
    if (ec == http::error::body_limit || ec == http::error::unexpected_body) {
      return reply(error_response(413, "a request here has no body\n"), false);
    }
    if (ec) return reply(error_response(400, "bad request: " + ec.message() + "\n"), false);
    const auto& request = parser_->get();
    reply(answer(request), request.keep_alive());
  }

  http::response<http::string_body> answer(const http::request<http::empty_body>& request) {
    if (request.method() != http::verb::get && request.method() != http::verb::head) {
      auto response = error_response(405, "only GET and HEAD are served\n");
      response.set(http::field::allow, "GET, HEAD");
      return response;
    }
    std::string_view target(request.target().data(), request.target().size());
    std::string_view path = target.substr(0, target.find('?'));
    std::string_view query =
        path.size() < target.size() ? target.substr(path.size() + 1) : std::string_view();
    auto route = server_->options.routes.find(path);
    if (route == server_->options.routes.end()) return error_response(404, "not found\n");
    HttpResponse answered;
    try {
      answered = route->second(query);
    } catch (const std::exception& e) {
      return error_response(500, std::string("handler failed: ") + e.what() + "\n");
    } catch (...) {
      return error_response(500, "handler failed\n");
    }
    http::response<http::string_body> response(static_cast<http::status>(answered.status), 11);
    response.set(http::field::content_type, answered.content_type);
    response.set(http::field::cache_control, "no-store");
    response.body() = std::move(answered.body);
    response.prepare_payload();
    if (request.method() == http::verb::head) response.body().clear();  // length stays
    return response;
  }

  static http::response<http::string_body> error_response(int status, std::string text) {
    http::response<http::string_body> response(static_cast<http::status>(status), 11);
    response.set(http::field::content_type, "text/plain; charset=utf-8");
    response.body() = std::move(text);
    response.prepare_payload();
    return response;
  }

  void reply(http::response<http::string_body> response, bool keep_alive) {
    response.keep_alive(keep_alive);
    response_ = std::move(response);
    stream_.expires_after(server_->options.idle_timeout);
    http::async_write(stream_, response_,
                      [self = shared_from_this(), keep_alive](beast::error_code ec, size_t) {
                        if (ec || !keep_alive || self->server_->closed) return self->finish();
                        self->read_next();
                      });
  }

  void finish() {
    server_->sessions.erase(this);
    close();
  }

  std::shared_ptr<HttpServer::State> server_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::empty_body>> parser_;
  http::response<http::string_body> response_;
};

}  // namespace

void HttpServer::State::accept_next() {
  acceptor.async_accept([self = shared_from_this()](beast::error_code ec, tcp::socket socket) {
    if (self->closed || ec == asio::error::operation_aborted) return;
    if (!ec) {
      if (self->sessions.size() >= self->options.max_connections) {
        beast::error_code ignored;
        socket.close(ignored);  // at the cap: the client sees a closed connection
      } else {
        std::make_shared<Session>(self, std::move(socket))->start();
      }
    }
    // An accept error (out of descriptors) is retried on the next one.
    self->accept_next();
  });
}

void HttpServer::State::close() {
  closed = true;
  beast::error_code ignored;
  acceptor.close(ignored);
  // Closing a session's socket ends its pending read or write, whose
  // handler then drops the session.
  std::unordered_set<Session*> open = std::move(sessions);
  for (Session* session : open) session->close();
}

Result<std::unique_ptr<HttpServer>> HttpServer::start(Node& node, HttpServerOptions options) {
  auto* tcp_backend = dynamic_cast<detail::TcpBackend*>(&node.impl_->backend());
  if (tcp_backend == nullptr) {
    return Status(StatusCode::kInvalidArgument, "HTTP needs a TCP node, not a loopback one");
  }
  if (options.routes.empty()) return Status(StatusCode::kInvalidArgument, "HTTP: no routes");
  if (options.max_connections == 0) {
    return Status(StatusCode::kInvalidArgument, "HTTP: max_connections must be at least 1");
  }
  beast::error_code ec;
  asio::ip::address address = asio::ip::make_address(options.address, ec);
  if (ec) {
    return Status(StatusCode::kInvalidArgument,
                  "HTTP: '" + options.address + "' is not an IP address");
  }
  auto state = std::make_shared<State>(tcp_backend->io(), std::move(options));
  tcp::endpoint endpoint(address, state->options.port);
  // The acceptor is opened here, before the loop ever sees it, so that a
  // port in use is an error of start().
  state->acceptor.open(endpoint.protocol(), ec);
  if (!ec) state->acceptor.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) state->acceptor.bind(endpoint, ec);
  if (!ec) state->acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(StatusCode::kUnavailable,
                  "HTTP: cannot listen on " + endpoint.address().to_string() + ":" +
                      std::to_string(endpoint.port()) + ": " + ec.message());
  }
  state->port = state->acceptor.local_endpoint().port();
  tcp_backend->post([state] { state->accept_next(); });
  return std::unique_ptr<HttpServer>(new HttpServer(node, std::move(state)));
}

HttpServer::HttpServer(Node& node, std::shared_ptr<State> state)
    : node_(node), state_(std::move(state)) {}

HttpServer::~HttpServer() {
  node_.impl_->backend().run_on_loop([state = state_] { state->close(); });
}

uint16_t HttpServer::port() const { return state_->port; }

}  // namespace plexus

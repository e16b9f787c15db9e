#include "tcp_backend.h"

#include <algorithm>
#include <future>

#include "peer.h"
#include "tcp_connection.h"

namespace plexus::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

namespace {

// True on any node's I/O thread: none of them may wait for a peer.
thread_local bool t_on_io_thread = false;

// How long a stopping node waits for its last bytes to be taken.
constexpr auto kStopGrace = std::chrono::seconds(2);

constexpr std::chrono::milliseconds kMinAcceptBackoff{100};
constexpr std::chrono::milliseconds kMaxAcceptBackoff{2000};

}  // namespace

TcpBackend::~TcpBackend() {
  if (thread_.joinable()) stop([] {});
}

Status TcpBackend::use_tls(const TlsOptions& tls) {
  try {
    tls_.emplace(asio::ssl::context::tls);
    tls_->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                      asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                      asio::ssl::context::no_tlsv1_1);
    tls_->set_verify_mode(asio::ssl::verify_peer | asio::ssl::verify_fail_if_no_peer_cert);
    tls_->load_verify_file(tls.ca_file);
    tls_->use_certificate_chain_file(tls.certificate_file);
    tls_->use_private_key_file(tls.private_key_file, asio::ssl::context::pem);
  } catch (const boost::system::system_error& e) {
    tls_.reset();
    return Status(StatusCode::kInvalidArgument, std::string("TLS setup failed: ") + e.what());
  }
  return Status::OK();
}

Result<NodeAddress> TcpBackend::listen(const NodeAddress& address) {
  boost::system::error_code ec;
  tcp::resolver resolver(io_);
  auto endpoints = resolver.resolve(address.host, std::to_string(address.port), ec);
  if (ec || endpoints.empty()) {
    return Status(StatusCode::kInvalidArgument,
                  "cannot resolve " + address.host + ": " + ec.message());
  }
  tcp::endpoint endpoint = endpoints.begin()->endpoint();
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return Status(StatusCode::kInvalidArgument, "cannot listen on " + address.host + ":" +
                                                    std::to_string(address.port) + ": " +
                                                    ec.message());
  }
  NodeAddress bound = address;
  bound.port = acceptor_.local_endpoint().port();
  return bound;
}

void TcpBackend::start(ConnectionHost& host) {
  host_ = &host;
  accept_next();
  thread_ = std::thread([this] {
    t_on_io_thread = true;
    io_.run();
  });
}

void TcpBackend::stop(std::function<void()> close_connections) {
  if (!thread_.joinable()) return;
  asio::post(io_, [this, close_connections = std::move(close_connections)] {
    boost::system::error_code ignored;
    acceptor_.close(ignored);
    close_connections();  // the host calls end_loop() once the last one has closed
  });
  // A peer that does not take our last bytes does not hold us up for long.
  auto deadline = std::make_shared<asio::steady_timer>(io_, kStopGrace);
  deadline->async_wait([this, deadline](const boost::system::error_code&) { io_.stop(); });
  work_.reset();
  thread_.join();
}

void TcpBackend::end_loop() { io_.stop(); }

void TcpBackend::post(std::function<void()> fn) { asio::post(io_, std::move(fn)); }

void TcpBackend::post_after(std::chrono::milliseconds delay, std::function<void()> fn) {
  auto timer = std::make_shared<asio::steady_timer>(io_, delay);
  timer->async_wait([timer, fn = std::move(fn)](const boost::system::error_code& ec) {
    if (!ec) fn();
  });
}

bool TcpBackend::on_loop() const { return t_on_io_thread; }

void TcpBackend::run_on_loop(std::function<void()> fn) {
  std::promise<void> done;
  asio::post(io_, [&] {
    fn();
    done.set_value();
  });
  done.get_future().wait();
}

void TcpBackend::accept_next() {
  acceptor_.async_accept([this](const boost::system::error_code& ec, tcp::socket socket) {
    if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
    if (ec) {
      // Out of file descriptors, most likely: try again later, backing off
      // from 100 ms to 2 s, and say so once per step of the backoff.
      bool longer = accept_backoff_ < kMaxAcceptBackoff;
      accept_backoff_ = std::clamp(accept_backoff_ * 2, kMinAcceptBackoff, kMaxAcceptBackoff);
      if (longer) {
        host_->accept_failed(ec.message() + " (trying again in " +
                             std::to_string(accept_backoff_.count()) + " ms)");
      }
      post_after(accept_backoff_, [this] { accept_next(); });
      return;
    }
    accept_backoff_ = std::chrono::milliseconds(0);
    auto conn =
        std::make_shared<TcpConnection>(*host_, *this, host_->accepting_handshake(), nullptr,
                                        std::move(socket), tls_ ? &*tls_ : nullptr);
    host_->adopt(conn);
    accept_next();
  });
}

// One outgoing attempt: resolve, connect (bounded by `timeout`), then the
// handshake on a TcpConnection.
void TcpBackend::connect(Peer& peer, std::chrono::milliseconds timeout) {
  struct Attempt {
    explicit Attempt(asio::io_context& io) : resolver(io), socket(io), timer(io) {}
    tcp::resolver resolver;
    tcp::socket socket;
    asio::steady_timer timer;
    bool timed_out = false;
  };
  auto attempt = std::make_shared<Attempt>(io_);
  attempt->timer.expires_after(timeout);
  attempt->timer.async_wait([attempt](const boost::system::error_code& ec) {
    if (ec) return;
    attempt->timed_out = true;
    attempt->resolver.cancel();
    boost::system::error_code ignored;
    attempt->socket.close(ignored);
  });
  attempt->resolver.async_resolve(
      peer.address.host, std::to_string(peer.address.port),
      [this, &peer, attempt](const boost::system::error_code& ec,
                             tcp::resolver::results_type results) {
        if (ec) {
          attempt->timer.cancel();
          host_->outgoing_failed(peer, "cannot resolve " + peer.address.host + ": " + ec.message());
          return;
        }
        asio::async_connect(
            attempt->socket, results,
            [this, &peer, attempt](const boost::system::error_code& ec, const tcp::endpoint&) {
              attempt->timer.cancel();
              if (ec) {
                host_->outgoing_failed(peer,
                                       attempt->timed_out ? "connect timed out" : ec.message());
                return;
              }
              auto conn = std::make_shared<TcpConnection>(
                  *host_, *this, host_->connecting_handshake(peer.name), &peer,
                  std::move(attempt->socket), tls_ ? &*tls_ : nullptr);
              host_->adopt(conn);
            });
      });
}

}  // namespace plexus::detail

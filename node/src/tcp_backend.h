// TcpBackend: connections over TCP (and TLS), on one I/O thread per node.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <memory>
#include <optional>
#include <thread>

#include "backend.h"
#include "plexus/node/options.h"

namespace plexus::detail {

class TcpBackend final : public Backend {
 public:
  TcpBackend() : acceptor_(io_), work_(boost::asio::make_work_guard(io_)) {}
  ~TcpBackend() override;

  // Loads the TLS files; an error names what failed.
  Status use_tls(const TlsOptions& tls);

  Result<NodeAddress> listen(const NodeAddress& address) override;
  void start(ConnectionHost& host) override;
  void stop(std::function<void()> close_connections) override;
  void end_loop() override;

  void post(std::function<void()> fn) override;
  void post_after(std::chrono::milliseconds delay, std::function<void()> fn) override;
  Clock::time_point now() const override { return Clock::now(); }
  bool on_loop() const override;
  void run_on_loop(std::function<void()> fn) override;
  bool wait(Mutex& mu, CondVar& cv, Clock::time_point deadline) PLEXUS_REQUIRES(mu) override {
    return cv.wait_until(mu, deadline);
  }

  void connect(Peer& peer, std::chrono::milliseconds timeout) override;

  // The I/O thread's context, for other servers on the same thread
  // (HttpServer). Valid as long as the backend.
  boost::asio::io_context& io() { return io_; }

 private:
  void accept_next();

  boost::asio::io_context io_;
  boost::asio::ip::tcp::acceptor acceptor_;
  std::optional<boost::asio::ssl::context> tls_;
  std::optional<boost::asio::executor_work_guard<boost::asio::io_context::executor_type>> work_;
  std::thread thread_;
  ConnectionHost* host_ = nullptr;               // set before the thread starts
  std::chrono::milliseconds accept_backoff_{0};  // loop only: 0 while accepts succeed
};

}  // namespace plexus::detail

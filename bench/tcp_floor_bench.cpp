// The floor under BM_RemotePingPong: two threads in one OS process play
// ping-pong over one TCP connection on 127.0.0.1 with blocking read() and
// write() of 20-byte messages (the size of a Plexus Ping frame), nothing
// else. Every round trip costs two kernel wake-ups of a blocked thread, as a
// round trip between two nodes (or two Erlang nodes) must at least, so no
// transport that blocks when idle can beat this on the same machine.
#include <arpa/inet.h>
#include <benchmark/benchmark.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "bench_support.h"

namespace plexus::bench {
namespace {

constexpr int kMessageBytes = 20;

// Moves exactly `n` bytes with `io` (::read or ::write); false on an error
// or the end of the stream.
template <class Io>
bool exactly(Io io, int fd, char* data, size_t n) {
  while (n > 0) {
    ssize_t done = io(fd, data, n);
    if (done <= 0) return false;
    data += done;
    n -= static_cast<size_t>(done);
  }
  return true;
}

// A connected pair of loopback TCP sockets with TCP_NODELAY, as the
// transport sets it; {-1, -1} on failure.
struct SocketPair {
  int a = -1;
  int b = -1;
  ~SocketPair() {
    if (a >= 0) ::close(a);
    if (b >= 0) ::close(b);
  }
};

bool connect_pair(SocketPair& pair) {
  int listener = ::socket(AF_INET, SOCK_STREAM, 0);
  if (listener < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  bool ok = ::bind(listener, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
            ::listen(listener, 1) == 0 &&
            ::getsockname(listener, reinterpret_cast<sockaddr*>(&addr), &len) == 0;
  if (ok) {
    pair.a = ::socket(AF_INET, SOCK_STREAM, 0);
    ok = pair.a >= 0 && ::connect(pair.a, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  if (ok) {
    pair.b = ::accept(listener, nullptr, nullptr);
    ok = pair.b >= 0;
  }
  ::close(listener);
  int one = 1;
  return ok && ::setsockopt(pair.a, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0 &&
         ::setsockopt(pair.b, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
}

// 100,000 round trips, as BM_RemotePingPong.
void BM_TcpLoopbackPingPong(benchmark::State& state) {
  constexpr int kRoundTrips = 100'000;
  for (auto _ : state) {
    SocketPair pair;
    if (!connect_pair(pair)) {
      state.SkipWithError("cannot open a loopback TCP connection");
      break;
    }
    bool echo_ok = true;
    std::thread echo([&] {
      char buffer[kMessageBytes];
      for (int i = 0; i < kRoundTrips && echo_ok; ++i) {
        echo_ok = exactly(::read, pair.b, buffer, kMessageBytes) &&
                  exactly(::write, pair.b, buffer, kMessageBytes);
      }
    });
    char buffer[kMessageBytes] = {};
    bool ok = true;
    auto start = Clock::now();
    for (int i = 0; i < kRoundTrips && ok; ++i) {
      ok = exactly(::write, pair.a, buffer, kMessageBytes) &&
           exactly(::read, pair.a, buffer, kMessageBytes);
    }
    double seconds = seconds_since(start);
    if (!ok) ::shutdown(pair.a, SHUT_RDWR);  // lets the echo thread out
    echo.join();
    if (!ok || !echo_ok) {
      state.SkipWithError("loopback ping-pong failed");
      break;
    }
    state.SetIterationTime(seconds);
  }
  state.SetItemsProcessed(state.iterations() * kRoundTrips);
}
BENCHMARK(BM_TcpLoopbackPingPong)->Apply(timed_runs);

}  // namespace
}  // namespace plexus::bench

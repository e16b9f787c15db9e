// DNS discovery (--discover-dns) against a real dnsmasq on loopback whose
// records the test changes: A records (a headless service's pods) and SRV
// records, polled by plexus-node daemons.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "http_client.h"
#include "node_process_fixture.h"

namespace plexus_test {
namespace {

constexpr char kDnsmasq[] = "/usr/sbin/dnsmasq";

// A port free on 127.0.0.1 now (the kernel's pick for a socket bound to 0).
uint16_t free_port(const char* ip = "127.0.0.1") {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  inet_pton(AF_INET, ip, &addr.sin_addr);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

// dnsmasq serving `hosts` (an /etc/hosts-style file, re-read on SIGHUP) and
// `config` lines (srv-host=...) on 127.0.0.1:port, for this test only.
class Dnsmasq {
 public:
  Dnsmasq(const std::string& hosts, const std::string& config) {
    char dir[] = "/tmp/plexus-dns-XXXXXX";
    if (!mkdtemp(dir)) throw std::runtime_error("mkdtemp failed");
    dir_ = dir;
    set_hosts(hosts);
    std::ofstream(dir_ + "/dnsmasq.conf") << config;
    port_ = free_port();
    process_ = std::make_unique<ChildProcess>(
        std::vector<std::string>{kDnsmasq, "--keep-in-foreground", "--no-resolv", "--no-hosts",
                                 "--bind-interfaces", "--listen-address=127.0.0.1",
                                 "--port=" + std::to_string(port_), "--user=root",
                                 "--pid-file=" + dir_ + "/pid", "--addn-hosts=" + dir_ + "/hosts",
                                 "--conf-file=" + dir_ + "/dnsmasq.conf", "--log-facility=-"},
        environment_without("PLEXUS_COOKIE"));
    // It says so on stderr once it listens (--log-facility=-).
    auto deadline = std::chrono::steady_clock::now() + kWait;
    while (process_->output().find("started, version") == std::string::npos) {
      if (std::chrono::steady_clock::now() > deadline) {
        throw std::runtime_error("dnsmasq did not start: " + process_->output());
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  ~Dnsmasq() {
    process_.reset();
    std::filesystem::remove_all(dir_);
  }
  void set_hosts(const std::string& hosts) { std::ofstream(dir_ + "/hosts") << hosts; }
  // Re-reads the hosts file.
  void reload() { process_->signal(SIGHUP); }
  void stop() { process_->kill_and_wait(); }
  std::string server() const { return "127.0.0.1:" + std::to_string(port_); }

 private:
  std::string dir_;
  uint16_t port_ = 0;
  std::unique_ptr<ChildProcess> process_;
};

class DnsDiscoveryTest : public NodeProcessTest {
 protected:
  void SetUp() override {
    NodeProcessTest::SetUp();
    ASSERT_EQ(access(kDnsmasq, X_OK), 0)
        << kDnsmasq << " is missing: scripts/install-deps.sh installs Debian's dnsmasq-base";
  }
  std::vector<std::string> discovery(const Dnsmasq& dns, const std::string& name,
                                     std::vector<std::string> more) {
    std::vector<std::string> args{"--discover-dns",         name,
                                  "--discover-dns-server",  dns.server(),
                                  "--discover-interval-ms", "100"};
    args.insert(args.end(), more.begin(), more.end());
    return args;
  }
  // Waits until `d` is connected to each of `peers` (its /metrics says so).
  bool connected(Daemon& d, const std::vector<std::string>& peers) {
    return http_poll(d.http_port(), "/metrics",
                     [&](const HttpReply& m) {
                       return std::all_of(peers.begin(), peers.end(), [&](const std::string& p) {
                         return m.body.find("plexus_node_peer_up{node=\"" + d.name() +
                                            "\",peer=\"" + p + "\"} 1") != std::string::npos;
                       });
                     })
        .has_value();
  }
};

TEST_F(DnsDiscoveryTest, NodesJoinWhatTheARecordsNameAsTheRecordsChange) {
  const uint16_t port = free_port("127.0.0.2");
  const std::string p = std::to_string(port);
  const std::string a_name = "plexus@127.0.0.2:" + p, b_name = "plexus@127.0.0.3:" + p,
                    c_name = "plexus@127.0.0.4:" + p;
  Dnsmasq dns("127.0.0.2 plexus.test\n", "");
  auto args = discovery(dns, "plexus.test", {"--discover-port", p});
  Daemon& a = start_lone_daemon(Daemon::Options{.name = a_name, .extra_args = args, .http = true});
  Daemon& b = start_lone_daemon(Daemon::Options{.name = b_name, .extra_args = args, .http = true});
  // b is not in the records yet, but a is: b joins a.
  ASSERT_TRUE(connected(b, {a_name})) << b.log();
  EXPECT_EQ(http_get(b.http_port(), "/readyz")->status, 200);

  // c knows nobody; once the records name it, a and b connect to it.
  Daemon& c = start_lone_daemon(Daemon::Options{.name = c_name, .http = true});
  dns.set_hosts("127.0.0.2 plexus.test\n127.0.0.3 plexus.test\n127.0.0.4 plexus.test\n");
  dns.reload();
  EXPECT_TRUE(connected(c, {a_name, b_name})) << a.log();
  // (a may hear of c first from b's gossip; its own poll finds it too.)
  EXPECT_TRUE(eventually(
      t_->runtime(),
      [&] { return a.log().find("dns: plexus.test gives 3 nodes") != std::string::npos; }, kWait))
      << a.log();

  // The server goes away: said once, and the node keeps its peers.
  auto no_answers = [&] {
    size_t n = 0;
    std::string log = a.log();
    for (size_t at = 0; (at = log.find("dns: no answer", at)) != std::string::npos; ++at) ++n;
    return n;
  };
  auto failures = [&] {
    std::optional<HttpReply> m = http_get(a.http_port(), "/metrics");
    std::string key = "plexus_dns_discovery_failures_total{node=\"" + a_name + "\"} ";
    size_t at = m ? m->body.find(key) : std::string::npos;
    return at == std::string::npos ? 0 : std::stoi(m->body.substr(at + key.size()));
  };
  const size_t before = no_answers();
  const int failed_before = failures();
  dns.stop();
  // Six failed polls, and one line for them.
  ASSERT_TRUE(eventually(
      t_->runtime(), [&] { return failures() >= failed_before + 6; }, kWait));
  EXPECT_EQ(no_answers(), before + 1) << a.log();
  EXPECT_TRUE(connected(a, {b_name, c_name}));
}

TEST_F(DnsDiscoveryTest, SrvRecordsGiveEachNodeItsHostAndPort) {
  const uint16_t p1 = free_port(), p2 = free_port();
  Dnsmasq dns("", "srv-host=_plexus._tcp.plexus.test,localhost," + std::to_string(p1) +
                      "\nsrv-host=_plexus._tcp.plexus.test,localhost," + std::to_string(p2) + "\n");
  auto args = discovery(dns, "_plexus._tcp.plexus.test", {"--discover-dns-type", "srv"});
  const std::string n1 = "plexus@localhost:" + std::to_string(p1);
  const std::string n2 = "plexus@localhost:" + std::to_string(p2);
  Daemon& one = start_lone_daemon(Daemon::Options{.name = n1, .extra_args = args, .http = true});
  Daemon& two = start_lone_daemon(Daemon::Options{.name = n2, .extra_args = args, .http = true});
  EXPECT_TRUE(connected(one, {n2})) << one.log();
  EXPECT_TRUE(connected(two, {n1})) << two.log();
}

TEST_F(DnsDiscoveryTest, ANodeWhoseRecordsNameOnlyAbsentNodesIsNotReady) {
  const uint16_t port = free_port("127.0.0.5");
  const std::string p = std::to_string(port);
  Dnsmasq dns("127.0.0.5 plexus.test\n127.0.0.6 plexus.test\n", "");
  Daemon& a = start_lone_daemon(
      Daemon::Options{.name = "plexus@127.0.0.5:" + p,
                      .extra_args = discovery(dns, "plexus.test", {"--discover-port", p}),
                      .http = true});
  ASSERT_TRUE(eventually(
      t_->runtime(), [&] { return a.log().find("gives 2 nodes") != std::string::npos; }, kWait))
      << a.log();
  std::optional<HttpReply> ready = http_get(a.http_port(), "/readyz");
  ASSERT_TRUE(ready);
  EXPECT_EQ(ready->status, 503);
  EXPECT_NE(ready->body.find("no seed reached yet"), std::string::npos);
}

}  // namespace
}  // namespace plexus_test

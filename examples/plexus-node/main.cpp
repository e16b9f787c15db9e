// plexus-node: one Plexus node as a daemon. It joins the cluster named by its
// seeds, serves the process types in process_types.h and a "control" process,
// hosts the hubs named by --hub, prints "READY <node name> <creation>" (then,
// with --http-port, "HTTP <address>:<port>", where /metrics, /healthz and
// /readyz are served) and runs until SIGINT or SIGTERM (then its hubs leave
// gracefully); SIGHUP does not stop it.
//
// Exit codes: 0 after a clean stop (or --help, --version), 1 if the node cannot start,
// 2 for a bad command line.
#include <pthread.h>

#include <csignal>
#include <cstdlib>
#include <iostream>
#include <memory>

#include "control.h"
#include "dashboard.h"
#include "flags.h"
#include "http_endpoints.h"
#include "hub_settings.h"
#include "log_file.h"
#include "plexus/hub/hub.h"
#include "plexus/node/http_server.h"
#include "plexus/node/node.h"
#include "plexus/version.h"
#include "plexus/zen/zen_monitor.h"
#include "process_types.h"
#include "systemd_notify.h"

namespace {

constexpr int kExitCannotStart = 1;
constexpr int kExitUsage = 2;

// Says why on stderr ("cannot start[ <what>]: <why>"): exit code 1.
int cannot_start(const plexus::Status& why, const std::string& what = "") {
  std::cerr << "plexus-node: cannot start" << (what.empty() ? "" : " " + what) << ": " << why
            << "\n";
  return kExitCannotStart;
}

}  // namespace

int main(int argc, char** argv) {
  plexus::Result<plexus_node::Flags> flags = plexus_node::parse_flags(argc, argv);
  if (!flags.ok()) {
    std::cerr << "plexus-node: " << flags.status().message() << "\n"
              << "Try 'plexus-node --help'.\n";
    return kExitUsage;
  }
  if (flags->help) {
    std::cout << plexus_node::usage();
    return 0;
  }
  if (flags->version) {
    std::cout << "plexus-node " << PLEXUS_VERSION_STRING << "\n";
    return 0;
  }

  // SIGINT, SIGTERM and SIGHUP are taken by sigwait below: blocked in every
  // thread, so block them before the node starts its threads. SIGHUP, which
  // a closed terminal or a log rotation sends, must not kill a daemon: it
  // reopens --log-file. A peer that goes away must not kill us with SIGPIPE.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  plexus::NodeOptions options;
  options.name = flags->name;
  options.cookie = flags->cookie;
  options.seeds = flags->seeds;
  options.tick_timeout = flags->tick_timeout;
  options.connect_timeout = flags->handshake_timeout;
  options.max_frame_size = flags->max_frame_size;
  options.max_send_buffer = flags->max_send_buffer;
  options.max_pending_handshakes = flags->max_pending_handshakes;
  options.max_pending_handshakes_per_host = flags->max_pending_handshakes_per_host;
  if (!flags->tls_ca.empty()) {
    options.tls = plexus::TlsOptions{flags->tls_ca, flags->tls_cert, flags->tls_key};
  }
  options.runtime.log_level = flags->log_level;
  std::shared_ptr<plexus_node::LogFile> log_file;
  if (!flags->log_file.empty()) {
    auto opened = plexus_node::LogFile::open(flags->log_file, flags->log_format);
    if (!opened.ok()) return cannot_start(opened.status());
    log_file = std::move(*opened);
  }
  options.runtime.log_sink = log_file ? log_file->sink() : plexus::stderr_sink(flags->log_format);
  plexus::Result<std::unique_ptr<plexus::Node>> node = plexus::Node::start(std::move(options));
  if (!node.ok()) return cannot_start(node.status());
  std::unique_ptr<plexus_node::DnsDiscovery> dns;
  if (!flags->dns.name.empty()) {
    auto started = plexus_node::DnsDiscovery::start(**node, flags->dns);
    if (!started.ok()) return cannot_start(started.status());
    dns = std::move(*started);
  }
  plexus::Status registered = plexus_node::register_process_types(**node);
  if (!registered.ok()) return cannot_start(registered);
  // The hubs before the control process, which reads the list from its own
  // thread: the list does not change once control runs.
  plexus_node::HubHost hubs;
  for (const std::string& id : flags->hubs) {
    // parse_flags checked each config.
    auto hub = plexus::hub::Hub::start(**node, *plexus_node::hub_config(id, flags->hub_settings));
    plexus::Status added = hub.ok() ? hubs.add(std::move(*hub)) : hub.status();
    if (!added.ok()) return cannot_start(added, "hub " + id);
  }

  plexus::Result<plexus::Pid> control = plexus_node::start_control(**node, hubs);
  if (!control.ok()) return cannot_start(control.status());

  std::unique_ptr<plexus::zen::ZenMonitor> zen;
  if (flags->zen) {
    plexus::zen::Options zen_options;
    zen_options.connector_sweep_interval = flags->zen_sweep;
    zen_options.batcher_sweep_interval = flags->zen_sweep;
    auto started = plexus::zen::ZenMonitor::start(**node, zen_options);
    if (!started.ok()) return cannot_start(started.status(), "the zen monitor");
    zen = std::move(*started);
  }

  std::unique_ptr<plexus_node::Dashboard> dashboard;
  std::unique_ptr<plexus::HttpServer> http;
  if (flags->http_port >= 0) {
    auto started_dashboard = plexus_node::Dashboard::start(**node, hubs);
    if (!started_dashboard.ok()) return cannot_start(started_dashboard.status());
    dashboard = std::move(*started_dashboard);
    plexus::HttpServerOptions http_options =
        plexus_node::http_endpoints(**node, hubs, [&flags, &dns] {
          std::vector<std::string> seeds = flags->seeds;
          if (dns) {
            for (std::string& n : dns->found()) seeds.push_back(std::move(n));
          }
          return seeds;
        });
    dashboard->add_routes(http_options);
    http_options.address = flags->http_address;
    http_options.port = static_cast<uint16_t>(flags->http_port);
    auto started = plexus::HttpServer::start(**node, std::move(http_options));
    if (!started.ok()) return cannot_start(started.status());
    http = std::move(*started);
  }

  std::cout << "READY " << (*node)->name() << " " << (*node)->creation() << std::endl;
  if (http) std::cout << "HTTP " << flags->http_address << ":" << http->port() << std::endl;
  plexus_node::notify_systemd("READY=1\nSTATUS=serving as " + (*node)->name());

  int signal = 0;
  for (sigwait(&stop_signals, &signal); signal == SIGHUP; sigwait(&stop_signals, &signal)) {
    plexus::Runtime& rt = (*node)->runtime();
    if (!log_file) {
      rt.log(plexus::LogLevel::kInfo, "SIGHUP: logging to stderr, nothing to reopen");
    } else if (plexus::Status reopened = log_file->reopen(); reopened.ok()) {
      rt.log(plexus::LogLevel::kInfo, "SIGHUP: reopened " + log_file->path());
    } else {
      rt.log(plexus::LogLevel::kError,
             "SIGHUP: " + reopened.message() + "; still logging to the old file");
    }
  }
  (*node)->runtime().log(plexus::LogLevel::kInfo,
                         std::string("stopping on ") + (signal == SIGINT ? "SIGINT" : "SIGTERM"));
  plexus_node::notify_systemd("STOPPING=1\nSTATUS=leaving the hubs");
  // A graceful leave: each hub's children start again on the other members.
  hubs.stop_all(std::chrono::seconds(30));
  http.reset();
  dashboard.reset();
  dns.reset();
  zen.reset();
  node->reset();
  return 0;
}

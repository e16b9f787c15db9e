#include "daemon.h"

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

namespace plexus_node {

namespace {

constexpr int kExitCannotStart = 1;
constexpr int kExitUsage = 2;

}  // namespace

int run_daemon(int argc, char** argv, const DaemonApp& app) {
  // Says why on stderr ("cannot start[ <what>]: <why>"): exit code 1.
  auto cannot_start = [&app](const plexus::Status& why, const std::string& what = "") {
    std::cerr << app.program << ": cannot start" << (what.empty() ? "" : " " + what) << ": " << why
              << "\n";
    return kExitCannotStart;
  };
  plexus::Result<Flags> flags = parse_flags(argc, argv, app.flags);
  if (!flags.ok()) {
    std::cerr << app.program << ": " << flags.status().message() << "\n"
              << "Try '" << app.program << " --help'.\n";
    return kExitUsage;
  }
  if (flags->help) {
    std::cout << usage(app.program, app.about, app.flags);
    return 0;
  }
  if (flags->version) {
    std::cout << app.program << " " << PLEXUS_VERSION_STRING << "\n";
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
  std::shared_ptr<LogFile> log_file;
  if (!flags->log_file.empty()) {
    auto opened = LogFile::open(flags->log_file, flags->log_format);
    if (!opened.ok()) return cannot_start(opened.status());
    log_file = std::move(*opened);
  }
  options.runtime.log_sink = log_file ? log_file->sink() : plexus::stderr_sink(flags->log_format);
  plexus::Result<std::unique_ptr<plexus::Node>> node = plexus::Node::start(std::move(options));
  if (!node.ok()) return cannot_start(node.status());
  std::unique_ptr<DnsDiscovery> dns;
  if (!flags->dns.name.empty()) {
    auto started = DnsDiscovery::start(**node, flags->dns);
    if (!started.ok()) return cannot_start(started.status());
    dns = std::move(*started);
  }
  plexus::Status registered = register_process_types(**node);
  if (registered.ok() && app.register_types) registered = app.register_types(**node);
  if (!registered.ok()) return cannot_start(registered);
  // The hubs before the control process, which reads the list from its own
  // thread: the list does not change once control runs.
  // parse_flags checked each config of --hub.
  std::vector<plexus::hub::HubConfig> hub_configs;
  for (const std::string& id : flags->hubs)
    hub_configs.push_back(*hub_config(id, flags->hub_settings));
  if (app.hubs) {
    plexus::Result<std::vector<plexus::hub::HubConfig>> app_hubs = app.hubs(flags->app);
    if (!app_hubs.ok()) return cannot_start(app_hubs.status());
    for (plexus::hub::HubConfig& config : *app_hubs) hub_configs.push_back(std::move(config));
  }
  HubHost hubs;
  // However this function returns from here on, every process ends before
  // the hubs go (the control process and its command servers read them),
  // and the hubs go before the node whose runtime holds their metrics:
  // what is declared below is destroyed first, then this, then the hubs.
  struct EndProcessesFirst {
    plexus::Runtime& runtime;
    ~EndProcessesFirst() { runtime.shutdown(); }
  } end_processes_first{(*node)->runtime()};
  for (plexus::hub::HubConfig& config : hub_configs) {
    std::string id = config.hub_id;
    auto hub = plexus::hub::Hub::start(**node, std::move(config));
    plexus::Status added = hub.ok() ? hubs.add(std::move(*hub)) : hub.status();
    if (!added.ok()) return cannot_start(added, "hub " + id);
  }

  plexus::Result<plexus::Pid> control = start_control(**node, hubs);
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

  std::unique_ptr<Dashboard> dashboard;
  std::unique_ptr<plexus::HttpServer> http;
  if (flags->http_port >= 0) {
    auto started_dashboard = Dashboard::start(**node, hubs);
    if (!started_dashboard.ok()) return cannot_start(started_dashboard.status());
    dashboard = std::move(*started_dashboard);
    plexus::HttpServerOptions http_options = http_endpoints(**node, hubs, [&flags, &dns] {
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

  AppRunning running;
  if (app.start) {
    plexus::Result<AppRunning> started = app.start(**node, hubs, flags->app);
    if (!started.ok()) return cannot_start(started.status());
    running = std::move(*started);
  }

  std::cout << "READY " << (*node)->name() << " " << (*node)->creation() << std::endl;
  if (http) std::cout << "HTTP " << flags->http_address << ":" << http->port() << std::endl;
  for (const std::string& line : running.ready_lines) std::cout << line << std::endl;
  notify_systemd("READY=1\nSTATUS=serving as " + (*node)->name());

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
  notify_systemd("STOPPING=1\nSTATUS=leaving the hubs");
  running.keep.reset();
  // A graceful leave: each hub's children start again on the other members.
  hubs.stop_all(std::chrono::seconds(30));
  // The rest goes in reverse order of declaration: the HTTP server, the
  // dashboard, the zen monitor, every process, the hubs, DNS, the node.
  return 0;
}

}  // namespace plexus_node

// The transport's figures for the runtime's metrics registry.
#include "node_impl.h"

namespace plexus::detail {

void NodeImpl::write_metrics(MetricsWriter& out) {
  const Membership::Counters& counters = membership_.counters();
  out.counter("plexus_node_up_events_total", "connections to peers that came up",
              counters.nodes_up);
  out.counter("plexus_node_down_events_total", "connections to peers that were up and were lost",
              counters.nodes_down);
  out.counter("plexus_node_handshake_failures_total",
              "connections closed before their handshake was done (either side)",
              counters.handshake_failures);
  out.counter("plexus_node_connect_failures_total", "outgoing connection attempts that failed",
              counters.connect_failures);
  size_t connected = 0;
  peers.for_each([&](Peer& peer) {
    MutexLock lock(peer.mu);
    // Peers only named (a send to a node never reached) are left out; a
    // seed or a node once connected has its rows.
    if (peer.creation == 0 && !peer.seed) return;
    bool up = peer.up != nullptr;
    connected += up;
    std::initializer_list<MetricLabel> labels = {{"peer", peer.name}};
    out.gauge("plexus_node_peer_up", "1 while the connection to the peer is up", up, labels);
    // Since the current (or last) connection came up.
    out.counter("plexus_node_peer_frames_in_total", "frames received from the peer",
                static_cast<double>(peer.frames_in), labels);
    out.counter("plexus_node_peer_frames_out_total", "frames written to the peer",
                static_cast<double>(peer.out.frames()), labels);
    out.counter("plexus_node_peer_bytes_in_total", "bytes received from the peer",
                static_cast<double>(peer.bytes_in), labels);
    out.counter("plexus_node_peer_bytes_out_total", "bytes written to the peer",
                static_cast<double>(peer.out.bytes_written()), labels);
    out.counter("plexus_node_peer_writes_total", "write calls to the peer's socket",
                static_cast<double>(peer.out.writes()), labels);
    out.gauge("plexus_node_peer_queue_bytes", "bytes queued for the peer, not yet written",
              static_cast<double>(peer.out.size()), labels);
  });
  out.gauge("plexus_node_peers_connected", "peers connected now (hidden ones too)",
            static_cast<double>(connected));
}

}  // namespace plexus::detail

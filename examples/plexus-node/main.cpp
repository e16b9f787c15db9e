// plexus-node: one Plexus node as a daemon. It joins the cluster named by its
// seeds, serves the process types in process_types.h and a "control" process,
// hosts the hubs named by --hub, prints "READY <node name> <creation>" (then,
// with --http-port, "HTTP <address>:<port>", where /metrics, /healthz,
// /readyz and the dashboard are served) and runs until SIGINT or SIGTERM
// (then its hubs leave gracefully); SIGHUP does not stop it.
//
// Exit codes: 0 after a clean stop (or --help, --version), 1 if the node
// cannot start, 2 for a bad command line.
#include "daemon.h"

int main(int argc, char** argv) { return plexus_node::run_daemon(argc, argv); }

// Readiness to systemd (Type=notify units): the sd_notify(3) datagram
// protocol, spoken without libsystemd.
#pragma once

#include <string>

namespace plexus_node {

// Sends `state` ("READY=1", "STOPPING=1", "STATUS=...", newline-separated)
// to the socket named by $NOTIFY_SOCKET: a path, or an abstract name
// starting with '@'. False if the variable is unset or the send failed
// (a daemon not run by systemd has nothing to tell).
bool notify_systemd(const std::string& state);

}  // namespace plexus_node

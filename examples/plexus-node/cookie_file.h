// A cookie kept in a file, as plexus-node's --cookie-file and plexusctl's
// read it.
#pragma once

#include <string>

#include "plexus/status.h"

namespace plexus_node {

// The cookie in `path`: its first line, trimmed. Like Erlang's
// ~/.erlang.cookie, a file others may read is refused. `flag` names the
// source in errors ("--cookie-file", "~/.plexus.cookie").
plexus::Status read_cookie_file(const std::string& path, std::string* cookie,
                                const std::string& flag = "--cookie-file");

}  // namespace plexus_node

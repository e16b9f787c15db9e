// The hub settings of plexus-node: --hub-KEY VALUE flags and the lines
// "KEY = VALUE" of a --hub-config file, applied to a HubConfig.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "plexus/hub/hub_config.h"
#include "plexus/status.h"

namespace plexus_node {

// KEY -> VALUE, the keys of hub_setting_keys().
using HubSettings = std::map<std::string, std::string>;

// What each key sets, for --help.
const char* hub_settings_usage();

// True if `key` is a setting ("distribution", "sync-ms", ...).
bool is_hub_setting(const std::string& key);
// Every setting's key.
std::vector<std::string> hub_setting_keys();

// Reads "KEY = VALUE" lines ('#' starts a comment) into `settings`,
// leaving keys already there (flags win over the file). An unreadable file,
// a line without '=' or an unknown key is an error naming the line.
plexus::Status read_hub_config(const std::string& path, HubSettings* settings);

// The config of hub `id` with `settings` applied over the defaults; a value
// that does not parse, or a config that does not validate, is an error
// naming the key.
plexus::Result<plexus::hub::HubConfig> hub_config(const std::string& id,
                                                  const HubSettings& settings);

}  // namespace plexus_node

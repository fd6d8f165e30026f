#pragma once
// Command-line and environment settings. A flag wins over its MVLAN_* variable, which wins over
// the default.

#include <map>
#include <string>
#include <vector>

#include "plugin/log.h"

namespace mvlan::plugin {

struct ServeOptions {
  std::string socket = "/run/docker/plugins/mvlan.sock";
  std::string state_dir = "/var/lib/mvlan";
  log::Level log_level = log::Level::Info;
  std::string default_pools;  // MVLAN_DEFAULT_POOLS
};

struct StatusOptions {
  std::string state_dir = "/var/lib/mvlan";
  bool json = false;
};

using Environment = std::map<std::string, std::string>;
Environment process_environment();

// Both throw std::invalid_argument with a message naming the flag, the value and what is valid.
ServeOptions parse_serve(const std::vector<std::string>& args, const Environment& env);
StatusOptions parse_status(const std::vector<std::string>& args, const Environment& env);

std::string database_path(const std::string& state_dir);

}  // namespace mvlan::plugin

#pragma once
// Command-line and environment settings. A flag wins over its MVLAN_* variable, which wins over
// the default.

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/log.h"
#include "etcd/client.h"

namespace mvlan::plugin {

// Where pools and grants live: the local database (default) or an etcd cluster shared by hosts.
// Environment only, like MVLAN_DEFAULT_POOLS: serve, status and release-host read the same.
struct IpamBackend {
  bool etcd = false;               // MVLAN_IPAM_BACKEND=sqlite|etcd
  etcd::Settings etcd_settings;    // MVLAN_ETCD_ENDPOINTS, _CACERT, _CERT, _KEY, _TIMEOUT
  std::string prefix = "/mvlan/";  // MVLAN_ETCD_PREFIX
  std::string host_id;             // MVLAN_HOST_ID, default the host name
};

struct ServeOptions {
  std::string socket = "/run/docker/plugins/mvlan.sock";
  std::string state_dir = "/var/lib/mvlan";
  log::Level log_level = log::Level::Info;
  std::string default_pools;  // MVLAN_DEFAULT_POOLS
  // MVLAN_JOIN_GRACE: how long an endpoint's link found in the host namespace at start is left
  // for Docker to move into its container (the answer to its Join may have reached Docker).
  std::chrono::seconds join_grace{60};
  IpamBackend ipam;
};

struct StatusOptions {
  std::string state_dir = "/var/lib/mvlan";
  bool json = false;
  IpamBackend ipam;
};

struct ReleaseHostOptions {
  std::string host;
  bool force = false;
  IpamBackend ipam;
};

struct ForgetOptions {
  std::string name;
  std::string pool;    // --pool ID: needed when the name is bound in several pools
  std::string subnet;  // --subnet CIDR: the same, by the pool's subnet
  std::string state_dir = "/var/lib/mvlan";
  IpamBackend ipam;  // with etcd: this host's (MVLAN_HOST_ID) bindings, in etcd
};

using Environment = std::map<std::string, std::string>;
Environment process_environment();

// Both throw std::invalid_argument with a message naming the flag, the value and what is valid.
ServeOptions parse_serve(const std::vector<std::string>& args, const Environment& env);
StatusOptions parse_status(const std::vector<std::string>& args, const Environment& env);
ReleaseHostOptions parse_release_host(const std::vector<std::string>& args, const Environment& env);
ForgetOptions parse_forget(const std::vector<std::string>& args, const Environment& env);
IpamBackend parse_ipam_backend(const Environment& env);

std::string database_path(const std::string& state_dir);
// The database's path when it exists; else nothing, after logging where it looked (for the
// commands that read an existing state: status, forget).
std::optional<std::string> existing_database(const std::string& state_dir);

}  // namespace mvlan::plugin

#pragma once
// The `-o key=value` options of `docker network create -d mvlan`, checked before anything is
// touched. Every refusal names the option, the value and what would be valid.

#include <map>
#include <optional>
#include <string>

#include "netlink/kernel.h"

namespace mvlan::plugin {

struct NetworkOptions {
  std::optional<std::string> parent;  // none: a dummy parent, internal network
  kernel::MacvlanMode mode = kernel::MacvlanMode::Bridge;
  unsigned mtu = 0;  // 0: inherit the parent's
  // -o host_access: "auto" or a plain address (checked to parse); none: no host access.
  std::optional<std::string> host_access;
};

NetworkOptions parse_network_options(const std::map<std::string, std::string>& generic);

// A link name the kernel accepts and mvlan may use as a parent. Throws Error(Invalid).
void check_link_name(const std::string& option, const std::string& name);

struct VlanName {
  std::string base;
  int vid = 0;
};
// "eth0.100" -> {eth0, 100}; nullopt when the name has no ".digits" suffix. Throws Error(Invalid)
// for a VLAN id outside 1-4094.
std::optional<VlanName> parse_vlan_name(const std::string& name);

// Docker's ids: letters and digits only, so they are safe in link names, logs and messages.
void check_docker_id(const char* field, const std::string& id);

}  // namespace mvlan::plugin

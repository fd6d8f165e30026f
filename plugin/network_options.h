#pragma once
// The `-o key=value` options of `docker network create -d mvlan`, checked before anything is
// touched. Every refusal names the option, the value and what would be valid.

#include <functional>
#include <map>
#include <optional>
#include <string>

#include "ipam/address.h"
#include "netlink/kernel.h"

namespace mvlan::plugin {

// -o host_access: the host's own address on the network.
struct HostAccessOption {
  std::string text;                      // as given ("auto" or the address), for messages
  std::optional<ipam::Address> address;  // none: auto, the first free address of the pool
};

struct NetworkOptions {
  std::optional<std::string> parent;  // none: a dummy parent, internal network
  kernel::MacvlanMode mode = kernel::MacvlanMode::Bridge;
  unsigned mtu = 0;                             // 0: inherit the parent's
  std::optional<HostAccessOption> host_access;  // none: no host access
};

// The options, each checked, and host_access against the rest (`internal`: --internal).
NetworkOptions parse_network_options(const std::map<std::string, std::string>& generic,
                                     bool internal);

// Runs `check` and puts "network <12 characters of its id>: " before an Invalid refusal: a
// swarm node meets a --config-only network's options only at its first task, whose error shows
// the message alone.
void naming_network(const std::string& network_id, const std::function<void()>& check);

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

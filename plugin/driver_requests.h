#pragma once
// The NetworkDriver's requests and answers, typed: what network_api.cpp reads from Docker's JSON
// and writes back.

#include <optional>
#include <string>
#include <vector>

#include "ipam/address.h"
#include "netlink/kernel.h"
#include "plugin/network_options.h"

namespace mvlan::plugin {

// One entry of IPv4Data or IPv6Data, checked at the edge: a subnet of its family without host
// bits, its gateway inside it.
struct NetworkSubnet {
  ipam::Prefix subnet;
  std::optional<ipam::Address> gateway;  // none: the engine allocated none
  std::string address_space;             // with subnet, names mvlan's IPAM pool
};

struct CreateNetworkRequest {
  std::string network_id;
  NetworkOptions options;  // -o key=value, checked
  bool internal = false;
  bool ipv6 = false;
  std::vector<NetworkSubnet> subnets;  // IPv4Data, then IPv6Data, each in Docker's order
};

struct CreateEndpointRequest {
  std::string network_id;
  std::string endpoint_id;
  // Checked at the edge: of their family, and a unicast MAC.
  std::optional<ipam::Cidr> address4;
  std::optional<ipam::Cidr> address6;
  std::optional<kernel::Mac> mac;  // none lets mvlan pick one
};

struct JoinAnswer {
  std::string link;      // SrcName
  std::string gateway4;  // of the subnet holding the endpoint's IPv4 address, "" for none
  std::string gateway6;
  std::vector<std::string> connected_routes;  // destinations reached on the link, no next hop
};

}  // namespace mvlan::plugin

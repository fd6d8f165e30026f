#pragma once
// The NetworkDriver's requests and answers, typed: what network_api.cpp reads from Docker's JSON
// and writes back.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipam/address.h"
#include "netlink/kernel.h"

namespace mvlan::plugin {

struct IpamData {
  std::string pool;
  std::string gateway;             // CIDR as Docker sends it, "" when none
  std::string address_space = "";  // with pool, names mvlan's IPAM pool
};

struct CreateNetworkRequest {
  std::string network_id;
  std::map<std::string, std::string> generic;  // -o key=value
  bool internal = false;
  bool ipv6 = false;
  std::vector<IpamData> ipv4;
  std::vector<IpamData> ipv6_data;
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

#pragma once
// A network's subnets (Docker's IPv4Data and IPv6Data) and which of them, with which gateway, an
// endpoint address belongs to: Join, host routes and `mvlan status` all decide per address.

#include <optional>

#include "ipam/address.h"
#include "store/network_store.h"

namespace mvlan::plugin {

// Point-to-point subnets (RFC 3021 /31 and /32, RFC 6164 /127 and /128) have no address to spare
// for a gateway: both go to containers.
bool has_room_for_gateway(const ipam::Prefix& subnet);

struct EndpointSubnet {
  ipam::Prefix subnet;
  std::optional<ipam::Address> gateway;
};
// The subnet of `network` holding an endpoint's `address`, if it has one. A
// network stored before subnets were recorded has one subnet per family of unknown prefix: the
// endpoint's own prefix stands for it, and its gateway counts only if it lies inside.
std::optional<EndpointSubnet> subnet_of(const store::NetworkRecord& network,
                                        const std::optional<ipam::Cidr>& address);

}  // namespace mvlan::plugin

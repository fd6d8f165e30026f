#include "plugin/network_subnets.h"
namespace mvlan::plugin {

bool has_room_for_gateway(const ipam::Prefix& subnet) {
  return subnet.length() < ipam::bits_of(subnet.family()) - 1;
}

std::optional<EndpointSubnet> subnet_of(const store::NetworkRecord& network,
                                        const std::optional<ipam::Cidr>& address) {
  if (!address) return std::nullopt;
  std::optional<EndpointSubnet> legacy;
  for (const auto& s : network.subnets) {
    if (s.family != address->address.family()) continue;
    if (!s.subnet) {
      const auto own = address->prefix();
      legacy =
          EndpointSubnet{own, s.gateway && own.contains(*s.gateway) ? s.gateway : std::nullopt};
      continue;
    }
    if (s.subnet->contains(address->address)) return EndpointSubnet{*s.subnet, s.gateway};
  }
  return legacy;
}

}  // namespace mvlan::plugin

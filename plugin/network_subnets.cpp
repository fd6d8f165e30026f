#include "plugin/network_subnets.h"
namespace mvlan::plugin {

bool has_room_for_gateway(const ipam::Prefix& subnet) {
  return subnet.length() < ipam::bits_of(subnet.family()) - 1;
}

std::optional<EndpointSubnet> subnet_of(const store::NetworkRecord& network,
                                        const std::string& address) {
  const auto cidr = ipam::Cidr::parse(address);
  if (!cidr) return std::nullopt;
  const int family = cidr->address.family() == ipam::Family::V4 ? 4 : 6;
  std::optional<EndpointSubnet> legacy;
  for (const auto& s : network.subnets) {
    if (s.family != family) continue;
    if (s.subnet.empty()) {
      const auto own = cidr->prefix();
      const auto gateway = ipam::Address::parse(s.gateway);
      legacy = EndpointSubnet{own, gateway && own.contains(*gateway) ? s.gateway : ""};
      continue;
    }
    const auto subnet = ipam::Prefix::parse(s.subnet);
    if (subnet && subnet->contains(cidr->address)) return EndpointSubnet{*subnet, s.gateway};
  }
  return legacy;
}

}  // namespace mvlan::plugin

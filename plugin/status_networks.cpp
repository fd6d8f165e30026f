// This host's networks and endpoints as `mvlan status` shows them (status_render.h).

#include "common/short_id.h"
#include "plugin/host_access.h"
#include "plugin/network_subnets.h"
#include "plugin/status_render.h"

namespace mvlan::plugin {
namespace {

// The gateway Join answers for an endpoint address: its subnet's, none on an internal network.
std::string gateway_of(const store::NetworkRecord& n, const std::optional<ipam::Cidr>& address) {
  const auto subnet = n.internal ? std::nullopt : subnet_of(n, address);
  return subnet ? ipam::str_or(subnet->gateway) : "";
}

}  // namespace

json network_json(const store::NetworkRecord& n,
                  const std::vector<store::EndpointRecord>& endpoints) {
  json eps = json::array();
  for (const auto& e : endpoints) {
    if (e.network_id != n.id) continue;
    eps.push_back({{"EndpointID", e.id},
                   {"MacAddress", format_mac(e.mac)},
                   {"Address", ipam::str_or(e.address4)},
                   {"AddressIPv6", ipam::str_or(e.address6)},
                   {"Gateway", gateway_of(n, e.address4)},
                   {"GatewayIPv6", gateway_of(n, e.address6)},
                   {"Link", e.link}});
  }
  json subnets = json::array();
  for (const auto& s : n.subnets) {
    subnets.push_back({{"Subnet", ipam::str_or(s.subnet)}, {"Gateway", ipam::str_or(s.gateway)}});
  }
  return json{{"NetworkID", n.id},
              {"Parent", n.parent},
              {"Mode", name_of(n.mode)},
              {"MTU", n.mtu},
              {"Internal", n.internal},
              {"IPv6", n.ipv6},
              {"Subnets", subnets},
              {"Endpoints", eps},
              {"HostAccess", ipam::str_or(n.host_access)},
              {"HostLink", n.host_access ? host_link_name(n.id) : ""}};
}

void print_networks(const std::vector<store::NetworkRecord>& networks,
                    const std::vector<store::EndpointRecord>& endpoints,
                    const std::vector<store::OwnedParent>& owned, std::ostream& out) {
  for (const auto& n : networks) {
    bool made = false;
    for (const auto& p : owned) made = made || p.name == n.parent;
    out << "network " << short_id(n.id) << "  parent " << n.parent
        << (made ? " (made by mvlan)" : "") << "  mode " << name_of(n.mode) << "  mtu "
        << (n.mtu ? std::to_string(n.mtu) : "inherited") << (n.internal ? "  internal" : "")
        << "\n";
    for (const auto& s : n.subnets) {
      out << "    subnet " << ipam::str_or(s.subnet, "unknown (stored by an older mvlan)")
          << "  gateway " << ipam::str_or(s.gateway, "-")
          << (s.gateway_pool.empty() ? "" : " (mvlan's pick)") << "\n";
    }
    if (n.host_access) {
      out << "    host access " << n.host_access->str() << "  link " << host_link_name(n.id)
          << "\n";
    }
    for (const auto& e : endpoints) {
      if (e.network_id != n.id) continue;
      out << "    endpoint " << short_id(e.id) << "  " << format_mac(e.mac) << "  "
          << ipam::str_or(e.address4, "-") << (e.address6 ? "  " + e.address6->str() : "")
          << "  link " << e.link << "\n";
    }
  }
}

}  // namespace mvlan::plugin

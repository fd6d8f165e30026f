// This host's networks and endpoints as `mvlan status` shows them (status_render.h).

#include "common/short_id.h"
#include "plugin/host_access.h"
#include "plugin/network_subnets.h"
#include "plugin/status_render.h"

namespace mvlan::plugin {
namespace {

// The gateway Join answers for an endpoint address: its subnet's, none on an internal network.
std::string gateway_of(const store::NetworkRecord& n, const std::string& address) {
  const auto subnet = n.internal ? std::nullopt : subnet_of(n, address);
  return subnet ? subnet->gateway : "";
}

}  // namespace

json network_json(const store::NetworkRecord& n,
                  const std::vector<store::EndpointRecord>& endpoints) {
  json eps = json::array();
  for (const auto& e : endpoints) {
    if (e.network_id != n.id) continue;
    eps.push_back({{"EndpointID", e.id},
                   {"MacAddress", e.mac},
                   {"Address", e.address4},
                   {"AddressIPv6", e.address6},
                   {"Gateway", gateway_of(n, e.address4)},
                   {"GatewayIPv6", gateway_of(n, e.address6)},
                   {"Link", e.link}});
  }
  json subnets = json::array();
  for (const auto& s : n.subnets) {
    subnets.push_back({{"Subnet", s.subnet}, {"Gateway", s.gateway}});
  }
  return json{{"NetworkID", n.id},
              {"Parent", n.parent},
              {"Mode", name_of(n.mode)},
              {"MTU", n.mtu},
              {"Internal", n.internal},
              {"IPv6", n.ipv6},
              {"Subnets", subnets},
              {"Endpoints", eps},
              {"HostAccess", n.host_access},
              {"HostLink", n.host_access.empty() ? "" : host_link_name(n.id)}};
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
      out << "    subnet " << (s.subnet.empty() ? "unknown (stored by an older mvlan)" : s.subnet)
          << "  gateway " << (s.gateway.empty() ? "-" : s.gateway)
          << (s.gateway_pool.empty() ? "" : " (mvlan's pick)") << "\n";
    }
    if (!n.host_access.empty()) {
      out << "    host access " << n.host_access << "  link " << host_link_name(n.id) << "\n";
    }
    for (const auto& e : endpoints) {
      if (e.network_id != n.id) continue;
      out << "    endpoint " << short_id(e.id) << "  " << e.mac << "  "
          << (e.address4.empty() ? "-" : e.address4)
          << (e.address6.empty() ? "" : "  " + e.address6) << "  link " << e.link << "\n";
    }
  }
}

}  // namespace mvlan::plugin

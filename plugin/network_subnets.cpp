#include "plugin/network_subnets.h"

#include "common/error.h"
#include "common/quote.h"
#include "plugin/driver_requests.h"

namespace mvlan::plugin {

std::vector<store::SubnetRecord> parse_subnets(const std::vector<IpamData>& data, const char* field,
                                               ipam::Family family) {
  const bool v4 = family == ipam::Family::V4;
  const std::string family_name = ipam::name_of(family);
  std::vector<store::SubnetRecord> out;
  for (size_t i = 0; i < data.size(); ++i) {
    const std::string at = std::string("field ") + field + "[" + std::to_string(i) + "].";
    const auto pool = ipam::Cidr::parse(data[i].pool);
    const char* subnet_example = v4 ? "192.0.2.0/24" : "2001:db8::/64";
    if (!pool || pool->address.family() != family || pool->has_host_bits()) {
      throw invalid(at + "Pool " + quote(data[i].pool) + " is not an " + family_name +
                    " subnet such as " + subnet_example);
    }
    store::SubnetRecord record;
    record.family = v4 ? 4 : 6;
    record.subnet = pool->prefix().str();
    if (!data[i].gateway.empty()) {
      const std::string example = v4 ? "192.0.2.1/24" : "2001:db8::1/64";
      const auto gateway = ipam::Cidr::parse(data[i].gateway);
      if (!gateway) {
        throw invalid(at + "Gateway " + quote(data[i].gateway) +
                      " is not an address with a prefix length such as " + example);
      }
      // Join hands it to Docker as this family's gateway: the other family's would break routing.
      if (gateway->address.family() != family) {
        throw invalid(at + "Gateway " + gateway->str() + " is " +
                      ipam::name_of(gateway->address.family()) + "; give an " + family_name +
                      " address such as " + example);
      }
      if (!pool->prefix().contains(gateway->address)) {
        throw invalid(at + "Gateway " + gateway->str() + " is outside its subnet " +
                      pool->prefix().str() + "; give an address inside it");
      }
      record.gateway = gateway->address.str();
    }
    for (const auto& seen : out) {
      if (seen.subnet == record.subnet) {
        throw invalid(at + "Pool " + record.subnet + " is given twice; give each subnet once");
      }
    }
    out.push_back(record);
  }
  return out;
}

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

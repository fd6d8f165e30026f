#include "plugin/network_requests.h"

#include "common/error.h"
#include "common/quote.h"
#include "plugin/mac.h"
#include "plugin/network_options.h"

namespace mvlan::plugin {
namespace {

// An IPv4Data or IPv6Data entry as Docker sends it.
struct IpamData {
  std::string pool;
  std::string gateway;  // CIDR, "" when none
  std::string address_space;
};

std::vector<IpamData> ipam_data(const json& body, const char* field) {
  std::vector<IpamData> out;
  auto it = body.find(field);
  if (it == body.end() || it->is_null()) return out;
  if (!it->is_array()) {
    throw invalid(std::string("field ") + field + " must be an array, got " + type_name(*it));
  }
  for (const auto& entry : *it) {
    if (!entry.is_object()) {
      throw invalid(std::string("field ") + field + " must hold objects, got " + type_name(entry));
    }
    out.push_back({optional_string(entry, "Pool"), optional_string(entry, "Gateway"),
                   optional_string(entry, "AddressSpace")});
  }
  return out;
}

// `field` ("IPv4Data" or "IPv6Data") checked: subnets of `family` without host bits, each given
// once, gateways of the family inside their subnet. Appended to `out`.
void add_subnets(const std::vector<IpamData>& data, const char* field, ipam::Family family,
                 std::vector<NetworkSubnet>& out) {
  const bool v4 = family == ipam::Family::V4;
  const std::string family_name = ipam::name_of(family);
  const size_t first = out.size();
  for (size_t i = 0; i < data.size(); ++i) {
    const std::string at = std::string("field ") + field + "[" + std::to_string(i) + "].";
    const auto pool = ipam::Cidr::parse(data[i].pool);
    const char* subnet_example = v4 ? "192.0.2.0/24" : "2001:db8::/64";
    if (!pool || pool->address.family() != family || pool->has_host_bits()) {
      throw invalid(at + "Pool " + quote(data[i].pool) + " is not an " + family_name +
                    " subnet such as " + subnet_example);
    }
    NetworkSubnet subnet{pool->prefix(), std::nullopt, data[i].address_space};
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
      if (!subnet.subnet.contains(gateway->address)) {
        throw invalid(at + "Gateway " + gateway->str() + " is outside its subnet " +
                      subnet.subnet.str() + "; give an address inside it");
      }
      subnet.gateway = gateway->address;
    }
    for (size_t j = first; j < out.size(); ++j) {
      if (out[j].subnet == subnet.subnet) {
        throw invalid(at + "Pool " + subnet.subnet.str() +
                      " is given twice; give each subnet once");
      }
    }
    out.push_back(std::move(subnet));
  }
}

// An endpoint address: "" is none.
std::optional<ipam::Cidr> endpoint_address(const char* field, const std::string& text,
                                           ipam::Family family) {
  if (text.empty()) return std::nullopt;
  const char* example = family == ipam::Family::V4 ? "192.0.2.10/24" : "2001:db8::10/64";
  const auto cidr = ipam::Cidr::parse(text);
  if (!cidr) {
    throw invalid(std::string("field ") + field + " " + quote(text) +
                  " is not an address with a prefix length such as " + example);
  }
  if (cidr->address.family() != family) {
    throw invalid(std::string("field ") + field + " " + cidr->str() + " is " +
                  ipam::name_of(cidr->address.family()) + "; it takes an " + ipam::name_of(family) +
                  " address such as " + example);
  }
  return cidr;
}

// The container's MAC: "" lets mvlan pick one.
std::optional<kernel::Mac> endpoint_mac(const std::string& text) {
  if (text.empty()) return std::nullopt;
  const auto mac = mac_field("Interface.MacAddress", text);
  if (is_multicast(mac) || is_zero(mac)) {
    throw invalid("field Interface.MacAddress " + format_mac(mac) + " is " +
                  (is_zero(mac) ? "all zeros" : "a multicast address") +
                  "; a container needs a unicast MAC (first octet even, e.g. 02:...)");
  }
  return mac;
}

}  // namespace

bool flag(const json& options, const char* key) {
  auto it = options.find(key);
  if (it == options.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string() && (*it == "true" || *it == "false")) return *it == "true";
  throw invalid(std::string("field Options.") + key + " must be true or false, got " +
                type_name(*it));
}

CreateNetworkRequest create_network_from(const json& body) {
  CreateNetworkRequest r;
  r.network_id = required_string(body, "NetworkID");
  const json options = optional_object(body, "Options");
  const auto generic = string_map(options, "com.docker.network.generic");
  r.internal = flag(options, "com.docker.network.internal");
  r.ipv6 = flag(options, "com.docker.network.enable_ipv6");
  const auto ipv4 = ipam_data(body, "IPv4Data");
  const auto ipv6 = ipam_data(body, "IPv6Data");
  // The JSON is whole; what it says is checked next, the id first, as for every request.
  check_docker_id("NetworkID", r.network_id);
  naming_network(r.network_id, [&] {
    r.options = parse_network_options(generic, r.internal);
    add_subnets(ipv4, "IPv4Data", ipam::Family::V4, r.subnets);
    add_subnets(ipv6, "IPv6Data", ipam::Family::V6, r.subnets);
  });
  return r;
}

CreateEndpointRequest create_endpoint_from(const json& body) {
  CreateEndpointRequest r;
  r.network_id = required_string(body, "NetworkID");
  r.endpoint_id = required_string(body, "EndpointID");
  const json iface = optional_object(body, "Interface");
  const std::string address4 = optional_string(iface, "Address");
  const std::string address6 = optional_string(iface, "AddressIPv6");
  const std::string mac = optional_string(iface, "MacAddress");
  check_docker_id("NetworkID", r.network_id);
  check_docker_id("EndpointID", r.endpoint_id);
  r.address4 = endpoint_address("Interface.Address", address4, ipam::Family::V4);
  r.address6 = endpoint_address("Interface.AddressIPv6", address6, ipam::Family::V6);
  r.mac = endpoint_mac(mac);
  return r;
}

}  // namespace mvlan::plugin

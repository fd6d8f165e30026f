#include "plugin/ipam_api.h"

#include "common/error.h"
#include "common/quote.h"
#include "ipam/allocator.h"
#include "plugin/mac.h"

namespace mvlan::plugin {
namespace {

constexpr const char* kGatewayType = "com.docker.network.gateway";
constexpr const char* kMacOption = "com.docker.network.endpoint.macaddress";
// Engines >= 29 name the container asking (not for gateway or --aux-address requests).
constexpr const char* kNameOption = "com.docker.network.endpoint.name";

ipam::Address parse_address_field(const std::string& text) {
  auto a = ipam::Address::parse(text);
  if (!a) {
    throw invalid("field Address " + quote(text) +
                  " is not a plain IPv4 or IPv6 address such as 192.0.2.10 or 2001:db8::10");
  }
  return *a;
}

ipam::PoolRequest pool_request_from(const json& body) {
  ipam::PoolRequest r;
  r.address_space = required_string(body, "AddressSpace");
  r.pool = optional_string(body, "Pool");
  r.sub_pool = optional_string(body, "SubPool");
  r.options = string_map(body, "Options");
  r.v6 = optional_bool(body, "V6", false);
  return r;
}

ipam::AddressRequest address_request_from(const json& body) {
  ipam::AddressRequest r;
  const std::string address = optional_string(body, "Address");
  if (!address.empty()) r.address = parse_address_field(address);
  // Options values are strings in every engine; anything else is refused by string_map.
  const auto options = string_map(body, "Options");
  if (auto it = options.find("RequestAddressType"); it != options.end()) {
    if (it->second != kGatewayType) {
      throw invalid("Options.RequestAddressType " + quote(it->second) +
                    " is unknown; the only type is " + kGatewayType);
    }
    r.gateway = true;
  }
  // The MAC is stored with the grant and quoted back when someone else asks for the address.
  if (auto it = options.find(kMacOption); it != options.end() && !it->second.empty()) {
    r.mac = format_mac(mac_field(std::string("Options.") + kMacOption, it->second));
  }
  // Raw: IpamDriver turns it into a binding key, or ignores it (never failing the start).
  if (auto it = options.find(kNameOption); it != options.end()) r.name = it->second;
  return r;
}

}  // namespace

void add_ipam_routes(Router& router, IpamDriver& driver) {
  router.add("/IpamDriver.GetCapabilities", Interface::IpamDriver, [](const json&) {
    // We persist every grant, so Docker need not replay requests after a restart.
    return json{{"RequiresMACAddress", false}, {"RequiresRequestReplay", false}};
  });
  router.add("/IpamDriver.GetDefaultAddressSpaces", Interface::IpamDriver, [](const json&) {
    return json{{"LocalDefaultAddressSpace", ipam::kLocalSpace},
                {"GlobalDefaultAddressSpace", ipam::kGlobalSpace}};
  });
  router.add("/IpamDriver.RequestPool", Interface::IpamDriver, [&driver](const json& body) {
    const ipam::Pool pool = driver.request_pool(pool_request_from(body));
    return json{{"PoolID", pool.id}, {"Pool", pool.subnet.str()}, {"Data", json::object()}};
  });
  router.add("/IpamDriver.ReleasePool", Interface::IpamDriver, [&driver](const json& body) {
    driver.release_pool(required_string(body, "PoolID"));
    return json::object();
  });
  router.add("/IpamDriver.RequestAddress", Interface::IpamDriver, [&driver](const json& body) {
    const std::string pool_id = required_string(body, "PoolID");
    const ipam::Cidr granted = driver.request_address(pool_id, address_request_from(body));
    return json{{"Address", granted.str()}, {"Data", json::object()}};
  });
  router.add("/IpamDriver.ReleaseAddress", Interface::IpamDriver, [&driver](const json& body) {
    const std::string pool_id = required_string(body, "PoolID");
    driver.release_address(pool_id, parse_address_field(required_string(body, "Address")));
    return json::object();
  });
}

}  // namespace mvlan::plugin

#include "plugin/network_api.h"

#include "common/error.h"
#include "common/quote.h"
#include "plugin/mac.h"
#include "plugin/network_options.h"

namespace mvlan::plugin {
namespace {

// Engines send these flags as JSON booleans; a string "true"/"false" is taken too.
bool flag(const json& options, const char* key) {
  auto it = options.find(key);
  if (it == options.end() || it->is_null()) return false;
  if (it->is_boolean()) return it->get<bool>();
  if (it->is_string() && (*it == "true" || *it == "false")) return *it == "true";
  throw invalid(std::string("field Options.") + key + " must be true or false, got " +
                type_name(*it));
}

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

CreateNetworkRequest create_network_from(const json& body) {
  CreateNetworkRequest r;
  r.network_id = required_string(body, "NetworkID");
  const json options = optional_object(body, "Options");
  r.generic = string_map(options, "com.docker.network.generic");
  r.internal = flag(options, "com.docker.network.internal");
  r.ipv6 = flag(options, "com.docker.network.enable_ipv6");
  r.ipv4 = ipam_data(body, "IPv4Data");
  r.ipv6_data = ipam_data(body, "IPv6Data");
  return r;
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

CreateEndpointRequest create_endpoint_from(const json& body) {
  CreateEndpointRequest r;
  r.network_id = required_string(body, "NetworkID");
  r.endpoint_id = required_string(body, "EndpointID");
  const json iface = optional_object(body, "Interface");
  const std::string address4 = optional_string(iface, "Address");
  const std::string address6 = optional_string(iface, "AddressIPv6");
  const std::string mac = optional_string(iface, "MacAddress");
  // The ids are refused before the addresses, as the driver would.
  check_docker_id("NetworkID", r.network_id);
  check_docker_id("EndpointID", r.endpoint_id);
  r.address4 = endpoint_address("Interface.Address", address4, ipam::Family::V4);
  r.address6 = endpoint_address("Interface.AddressIPv6", address6, ipam::Family::V6);
  r.mac = endpoint_mac(mac);
  return r;
}

json empty(const json&) {
  return json::object();
}

}  // namespace

void add_network_routes(Router& router, NetworkDriver& driver) {
  const auto nd = Interface::NetworkDriver;
  router.add("/NetworkDriver.GetCapabilities", nd, [](const json&) {
    return json{{"Scope", "local"}, {"ConnectivityScope", "global"}, {"GwAllocChecker", true}};
  });
  router.add("/NetworkDriver.GwAllocCheck", nd, [&driver](const json& body) {
    const json options = optional_object(body, "Options");
    const auto skip = driver.gateway_skip(string_map(options, "com.docker.network.generic"),
                                          flag(options, "com.docker.network.internal"));
    return json{{"SkipIPv4", skip.ipv4}, {"SkipIPv6", skip.ipv6}};
  });
  router.add("/NetworkDriver.CreateNetwork", nd, [&driver](const json& body) {
    driver.create_network(create_network_from(body));
    return json::object();
  });
  router.add("/NetworkDriver.DeleteNetwork", nd, [&driver](const json& body) {
    driver.delete_network(required_string(body, "NetworkID"));
    return json::object();
  });
  router.add("/NetworkDriver.CreateEndpoint", nd, [&driver](const json& body) {
    auto generated = driver.create_endpoint(create_endpoint_from(body));
    // Echoing a MAC Docker already chose makes Docker fail the endpoint: answer only our own.
    if (!generated) return json::object();
    return json{{"Interface", {{"MacAddress", *generated}}}};
  });
  router.add("/NetworkDriver.DeleteEndpoint", nd, [&driver](const json& body) {
    driver.delete_endpoint(required_string(body, "NetworkID"), required_string(body, "EndpointID"));
    return json::object();
  });
  router.add("/NetworkDriver.Join", nd, [&driver](const json& body) {
    const JoinAnswer a =
        driver.join(required_string(body, "NetworkID"), required_string(body, "EndpointID"));
    json answer{{"InterfaceName", {{"SrcName", a.link}, {"DstPrefix", "eth"}}},
                {"DisableGatewayService", true}};
    if (!a.gateway4.empty()) answer["Gateway"] = a.gateway4;
    if (!a.gateway6.empty()) answer["GatewayIPv6"] = a.gateway6;
    for (const auto& destination : a.connected_routes) {
      answer["StaticRoutes"].push_back({{"Destination", destination}, {"RouteType", 1}});
    }
    return answer;
  });
  router.add("/NetworkDriver.Leave", nd, [&driver](const json& body) {
    driver.leave(required_string(body, "NetworkID"), required_string(body, "EndpointID"));
    return json::object();
  });
  router.add("/NetworkDriver.EndpointOperInfo", nd, [](const json&) {
    return json{{"Value", json::object()}};
  });
  for (const char* path :
       {"/NetworkDriver.ProgramExternalConnectivity", "/NetworkDriver.RevokeExternalConnectivity",
        "/NetworkDriver.DiscoverNew", "/NetworkDriver.DiscoverDelete",
        "/NetworkDriver.AllocateNetwork", "/NetworkDriver.FreeNetwork"}) {
    router.add(path, nd, empty);
  }
}

}  // namespace mvlan::plugin

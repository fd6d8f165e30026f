#include "plugin/network_api.h"

#include "common/error.h"
#include "common/log.h"
#include "plugin/network_options.h"
#include "plugin/network_requests.h"

namespace mvlan::plugin {
namespace {

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
    const auto generic = string_map(options, "com.docker.network.generic");
    const bool internal = flag(options, "com.docker.network.internal");
    // GwAllocCheck names no network: options CreateNetwork will refuse are only logged here, and
    // refused by CreateNetwork, whose error names the network.
    try {
      parse_network_options(generic, internal);
    } catch (const Error& e) {
      if (e.kind != ErrorKind::Invalid) throw;
      log::info(std::string("GwAllocCheck: options CreateNetwork will refuse: ") + e.what());
    }
    const auto skip = driver.gateway_skip();
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

#pragma once
// A CreateNetwork as Docker sends it, built field by field in the text a test reads best, and
// handed to the driver through the plugin's own JSON edge: a refusal of the options or subnets
// is thrown where the request is converted, inside the driver call it is passed to.

#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "plugin/driver_requests.h"
#include "plugin/network_requests.h"

namespace mvlan::test {

// One entry of IPv4Data or IPv6Data.
struct IpamData {
  std::string pool;
  std::string gateway;  // CIDR, "" for none
  std::string address_space = "";  // "LocalDefault" for a pool of mvlan's IPAM
};

struct NetworkBody {
  std::string network_id;
  std::map<std::string, std::string> generic;  // -o key=value
  bool internal = false;
  bool ipv6 = false;
  std::vector<IpamData> ipv4;
  std::vector<IpamData> ipv6_data;

  nlohmann::json json() const {
    auto data = [](const std::vector<IpamData>& entries) {
      auto out = nlohmann::json::array();
      for (const auto& e : entries) {
        nlohmann::json entry{{"Pool", e.pool}, {"AddressSpace", e.address_space}};
        if (!e.gateway.empty()) entry["Gateway"] = e.gateway;
        out.push_back(entry);
      }
      return out;
    };
    return {{"NetworkID", network_id},
            {"Options",
             {{"com.docker.network.generic", generic},
              {"com.docker.network.internal", internal},
              {"com.docker.network.enable_ipv6", ipv6}}},
            {"IPv4Data", data(ipv4)},
            {"IPv6Data", data(ipv6_data)}};
  }
  // Implicit, so that `driver.create_network(body)` reads as the call Docker makes.
  operator plugin::CreateNetworkRequest() const {  // NOLINT(google-explicit-constructor)
    return plugin::create_network_from(json());
  }
};

}  // namespace mvlan::test

#pragma once
// A CreateEndpoint as the JSON edge hands it to the driver (parsed), built from the text a test
// reads best. "" leaves a field out; every text given must be valid.

#include <string>

#include "common/mac.h"
#include "ipam/address.h"
#include "plugin/driver_requests.h"

namespace mvlan::test {

inline plugin::CreateEndpointRequest endpoint_request(const std::string& network_id,
                                                      const std::string& endpoint_id,
                                                      const std::string& address4,
                                                      const std::string& address6 = "",
                                                      const std::string& mac = "") {
  plugin::CreateEndpointRequest r{network_id, endpoint_id, std::nullopt, std::nullopt,
                                  std::nullopt};
  if (!address4.empty()) r.address4 = *ipam::Cidr::parse(address4);
  if (!address6.empty()) r.address6 = *ipam::Cidr::parse(address6);
  if (!mac.empty()) r.mac = *parse_mac(mac);
  return r;
}

}  // namespace mvlan::test

#pragma once
// Docker's NetworkDriver request bodies, read and checked once: the driver gets typed requests
// whose every address, MAC and option is already valid.

#include "plugin/driver_requests.h"
#include "plugin/json_fields.h"

namespace mvlan::plugin {

// CreateNetwork. Throws Error(Invalid) naming the field, the value and what is valid; a refusal
// of the options or subnets names the network too.
CreateNetworkRequest create_network_from(const json& body);

// CreateEndpoint. The ids are refused before the addresses, the addresses before the MAC.
CreateEndpointRequest create_endpoint_from(const json& body);

// Engines send the Options flags (internal, enable_ipv6) as JSON booleans; a string "true" or
// "false" is taken too. Absent or null is false.
bool flag(const json& options, const char* key);

}  // namespace mvlan::plugin

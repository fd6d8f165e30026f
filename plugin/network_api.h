#pragma once
// The NetworkDriver's JSON edge: Docker's request bodies in, typed calls, Docker's answers out.

#include "plugin/network_driver.h"
#include "plugin/router.h"

namespace mvlan::plugin {

void add_network_routes(Router& router, NetworkDriver& driver);

}  // namespace mvlan::plugin

#pragma once
// The IpamDriver's JSON edge: Docker's request bodies in, typed calls, Docker's answers out.

#include "plugin/ipam_driver.h"
#include "plugin/router.h"

namespace mvlan::plugin {

void add_ipam_routes(Router& router, IpamDriver& driver);

}  // namespace mvlan::plugin

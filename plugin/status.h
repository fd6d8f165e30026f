#pragma once

#include <ostream>

#include "plugin/options.h"

namespace mvlan::plugin {

// Prints pools, gateways, reserved (aux) addresses, allocations, networks and endpoints. Safe
// while `serve` runs: it opens the database read-only.
int print_status(const StatusOptions& options, std::ostream& out);
// Frees the addresses a gone host held in etcd; refuses while its plugin is registered as alive
// unless options.force.
int release_host(const ReleaseHostOptions& options, std::ostream& out);

}  // namespace mvlan::plugin

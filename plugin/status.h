#pragma once

#include <ostream>

#include "plugin/options.h"

namespace mvlan::plugin {

// Prints pools, gateways, reserved (aux) addresses, allocations, networks and endpoints. Safe
// while `serve` runs: it opens the database read-only.
int print_status(const StatusOptions& options, std::ostream& out);

}  // namespace mvlan::plugin

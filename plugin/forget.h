#pragma once

#include <ostream>

#include "plugin/options.h"

namespace mvlan::plugin {

// `mvlan forget NAME`: drops NAME's parked binding (sticky addresses) and frees its address.
// Refuses, saying which endpoint, while a container holds the address; asks for --pool when NAME
// is bound in several pools. Safe while `serve` runs (SQLite locks the database for the write).
int forget(const ForgetOptions& options, std::ostream& out);

}  // namespace mvlan::plugin

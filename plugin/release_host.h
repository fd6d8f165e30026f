#pragma once

#include <ostream>

#include "plugin/options.h"

namespace mvlan::plugin {

// `mvlan release-host HOST`: frees the addresses a gone host held in etcd; refuses while its
// plugin is registered as alive unless options.force.
int release_host(const ReleaseHostOptions& options, std::ostream& out);

}  // namespace mvlan::plugin

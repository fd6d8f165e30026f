#pragma once

#include "plugin/options.h"

namespace mvlan::plugin {

// Runs the plugin until SIGTERM or SIGINT; returns the process exit code.
int serve(const ServeOptions& options);

}  // namespace mvlan::plugin

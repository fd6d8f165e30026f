#pragma once
// Random MACs for endpoints Docker gave none. The MAC value and its text form: common/mac.h.

#include "common/mac.h"

namespace mvlan::plugin {

// A random locally administered unicast MAC (first octet x2, x6, xA or xE).
Mac generate_mac();

}  // namespace mvlan::plugin

#pragma once
// Ethernet MAC addresses for endpoints: Docker's text form, checks, and generation.

#include <optional>
#include <string>
#include <string_view>

#include "netlink/kernel.h"

namespace mvlan::plugin {

std::optional<kernel::Mac> parse_mac(std::string_view text);  // "02:42:c0:00:02:32"
std::string format_mac(const kernel::Mac& mac);
bool is_multicast(const kernel::Mac& mac);
bool is_zero(const kernel::Mac& mac);
// A random locally administered unicast MAC (first octet x2, x6, xA or xE).
kernel::Mac generate_mac();

}  // namespace mvlan::plugin

#pragma once
// Ethernet MAC addresses: the value the kernel layer and the plugin pass between them, and its
// text form as Docker and `ip link` write it ("02:42:c0:00:02:32").

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace mvlan {

using Mac = std::array<std::uint8_t, 6>;

// Six colon-separated pairs of hex digits, either case; nothing else.
std::optional<Mac> parse_mac(std::string_view text);
// Lowercase, colon-separated: the form the store keeps and messages show.
std::string format_mac(const Mac& mac);
bool is_multicast(const Mac& mac);
bool is_zero(const Mac& mac);

}  // namespace mvlan

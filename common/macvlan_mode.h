#pragma once
// The macvlan modes mvlan makes links in, and their one text form: the -o macvlan_mode values,
// the networks.mode column of the state database, `mvlan status` and the kernel layer's messages.

#include <optional>
#include <string_view>

namespace mvlan {

enum class MacvlanMode { Bridge, Private, Vepa, Passthru };

const char* name_of(MacvlanMode mode);  // "bridge", "private", "vepa", "passthru"
std::optional<MacvlanMode> parse_macvlan_mode(std::string_view text);

}  // namespace mvlan

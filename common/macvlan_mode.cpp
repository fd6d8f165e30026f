#include "common/macvlan_mode.h"

#include <utility>

namespace mvlan {
namespace {

constexpr std::pair<MacvlanMode, const char*> kNames[] = {
    {MacvlanMode::Bridge, "bridge"},
    {MacvlanMode::Private, "private"},
    {MacvlanMode::Vepa, "vepa"},
    {MacvlanMode::Passthru, "passthru"},
};

}  // namespace

const char* name_of(MacvlanMode mode) {
  for (const auto& [m, name] : kNames) {
    if (m == mode) return name;
  }
  return "unknown";
}

std::optional<MacvlanMode> parse_macvlan_mode(std::string_view text) {
  for (const auto& [m, name] : kNames) {
    if (text == name) return m;
  }
  return std::nullopt;
}

}  // namespace mvlan

#include "ipam/binding_key.h"

#include <algorithm>

namespace mvlan::ipam {
namespace {

bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

// Swarm's task and node ids: 25 characters of [a-z0-9].
bool is_swarm_id(std::string_view s) {
  return s.size() == 25 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
         });
}

bool is_slot(std::string_view s) {
  return !s.empty() && s.size() <= 9 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

}  // namespace

std::optional<std::string> binding_key(std::string_view name) {
  if (!name.empty() && name.front() == '/') name.remove_prefix(1);  // the engine's own form
  if (name.empty() || name.size() > kMaxBindingName || !is_alnum(name.front())) return std::nullopt;
  const bool valid = std::all_of(name.begin(), name.end(), [](char c) {
    return is_alnum(c) || c == '_' || c == '.' || c == '-';
  });
  if (!valid) return std::nullopt;

  const auto last_dot = name.rfind('.');
  if (last_dot != std::string_view::npos && last_dot > 0 &&
      is_swarm_id(name.substr(last_dot + 1))) {
    const std::string_view head = name.substr(0, last_dot);
    const auto slot_dot = head.rfind('.');
    if (slot_dot != std::string_view::npos && slot_dot > 0) {
      const std::string_view slot = head.substr(slot_dot + 1);
      if (is_slot(slot) || is_swarm_id(slot)) return std::string(head);
    }
  }
  return std::string(name);
}

}  // namespace mvlan::ipam

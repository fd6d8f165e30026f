#include "common/mac.h"

#include <cstdio>

namespace mvlan {

std::optional<Mac> parse_mac(std::string_view text) {
  if (text.size() != 17) return std::nullopt;
  Mac mac{};
  for (size_t i = 0; i < 6; ++i) {
    if (i > 0 && text[i * 3 - 1] != ':') return std::nullopt;
    int value = 0;
    for (size_t j = 0; j < 2; ++j) {
      const char c = text[i * 3 + j];
      int digit = -1;
      if (c >= '0' && c <= '9') digit = c - '0';
      if (c >= 'a' && c <= 'f') digit = c - 'a' + 10;
      if (c >= 'A' && c <= 'F') digit = c - 'A' + 10;
      if (digit < 0) return std::nullopt;
      value = value * 16 + digit;
    }
    mac[i] = static_cast<std::uint8_t>(value);
  }
  return mac;
}

std::string format_mac(const Mac& mac) {
  char buf[18];
  std::snprintf(buf, sizeof buf, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3],
                mac[4], mac[5]);
  return buf;
}

bool is_multicast(const Mac& mac) {
  return (mac[0] & 0x01) != 0;
}

bool is_zero(const Mac& mac) {
  for (auto b : mac)
    if (b != 0) return false;
  return true;
}

}  // namespace mvlan

#include "plugin/mac.h"

#include <random>

namespace mvlan::plugin {

Mac generate_mac() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  Mac mac{};
  const std::uint64_t bits = rng();
  for (size_t i = 0; i < 6; ++i) mac[i] = static_cast<std::uint8_t>(bits >> (8 * i));
  mac[0] = static_cast<std::uint8_t>((mac[0] & 0xfe) | 0x02);  // unicast, locally administered
  return mac;
}

}  // namespace mvlan::plugin

#pragma once
// Addresses, prefixes and CIDRs from the text a test reads best; a typo throws
// std::bad_optional_access where it is written.

#include <string_view>

#include "ipam/address.h"

namespace mvlan::test {

inline ipam::Address address(std::string_view text) {
  return ipam::Address::parse(text).value();
}
inline ipam::Prefix prefix(std::string_view text) {
  return ipam::Prefix::parse(text).value();
}
inline ipam::Cidr cidr(std::string_view text) {
  return ipam::Cidr::parse(text).value();
}

}  // namespace mvlan::test

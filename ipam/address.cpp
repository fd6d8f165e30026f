#include "ipam/address.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace mvlan::ipam {
namespace {

u128 host_mask(Family f, int length) {
  const int host_bits = bits_of(f) - length;
  if (host_bits <= 0) return 0;
  if (host_bits >= 128) return ~u128{0};
  return (u128{1} << host_bits) - 1;
}

u128 family_max(Family f) {
  return f == Family::V4 ? u128{0xffffffffu} : ~u128{0};
}

std::optional<int> parse_length(std::string_view text, Family f) {
  if (text.empty() || text.size() > 3) return std::nullopt;
  int value = -1;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  if (value < 0 || value > bits_of(f)) return std::nullopt;
  return value;
}

}  // namespace

Address Address::of(Family family, u128 value) {
  return Address(family, value & family_max(family));
}

std::optional<Address> Address::parse(std::string_view text) {
  // inet_pton needs a terminated string; bound the copy so hostile input cannot grow it.
  if (text.empty() || text.size() > INET6_ADDRSTRLEN) return std::nullopt;
  const std::string s(text);
  if (s.find(':') == std::string::npos) {
    in_addr a{};
    if (inet_pton(AF_INET, s.c_str(), &a) != 1) return std::nullopt;
    return Address::v4(ntohl(a.s_addr));
  }
  in6_addr a{};
  if (inet_pton(AF_INET6, s.c_str(), &a) != 1) return std::nullopt;
  u128 v = 0;
  for (unsigned char byte : a.s6_addr) v = (v << 8) | byte;
  return Address::v6(v);
}

std::optional<Address> Address::from_bytes(std::string_view bytes) {
  if (bytes.size() != 4 && bytes.size() != 16) return std::nullopt;
  u128 v = 0;
  for (char c : bytes) v = (v << 8) | static_cast<unsigned char>(c);
  return Address::of(bytes.size() == 4 ? Family::V4 : Family::V6, v);
}

std::string Address::bytes() const {
  const int n = family_ == Family::V4 ? 4 : 16;
  std::string out(static_cast<size_t>(n), '\0');
  u128 v = value_;
  for (int i = n - 1; i >= 0; --i) {
    out[static_cast<size_t>(i)] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  return out;
}

std::string Address::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  if (family_ == Family::V4) {
    in_addr a{};
    a.s_addr = htonl(static_cast<std::uint32_t>(value_));
    inet_ntop(AF_INET, &a, buf, sizeof buf);
  } else {
    in6_addr a{};
    const std::string b = bytes();
    std::memcpy(a.s6_addr, b.data(), 16);
    inet_ntop(AF_INET6, &a, buf, sizeof buf);
  }
  return buf;
}

bool Address::is_max() const {
  return value_ == family_max(family_);
}

std::strong_ordering operator<=>(const Address& a, const Address& b) {
  if (a.family_ != b.family_) return a.family_ <=> b.family_;
  if (a.value_ < b.value_) return std::strong_ordering::less;
  if (a.value_ > b.value_) return std::strong_ordering::greater;
  return std::strong_ordering::equal;
}

Prefix Prefix::of(const Address& any_member, int length) {
  const Family f = any_member.family();
  return Prefix(Address::of(f, any_member.value() & ~host_mask(f, length)), length);
}

std::optional<Prefix> Prefix::parse(std::string_view text) {
  auto cidr = Cidr::parse(text);
  if (!cidr || cidr->has_host_bits()) return std::nullopt;
  return cidr->prefix();
}

Address Prefix::last() const {
  return Address::of(family(), network_.value() | host_mask(family(), length_));
}

std::string Prefix::str() const {
  return network_.str() + "/" + std::to_string(length_);
}

bool Prefix::contains(const Address& a) const {
  return a.family() == family() && a >= network_ && a <= last();
}

bool Prefix::contains(const Prefix& p) const {
  return p.family() == family() && p.length_ >= length_ && contains(p.network_);
}

bool Prefix::overlaps(const Prefix& p) const {
  return contains(p) || p.contains(*this);
}

std::optional<Cidr> Cidr::parse(std::string_view text) {
  const auto slash = text.find('/');
  if (slash == std::string_view::npos) return std::nullopt;
  auto address = Address::parse(text.substr(0, slash));
  if (!address) return std::nullopt;
  auto length = parse_length(text.substr(slash + 1), address->family());
  if (!length) return std::nullopt;
  return Cidr{*address, *length};
}

std::string Cidr::str() const {
  return address.str() + "/" + std::to_string(length);
}

std::string to_string(u128 value) {
  if (value == 0) return "0";
  std::string out;
  while (value > 0) {
    out.insert(out.begin(), static_cast<char>('0' + static_cast<int>(value % 10)));
    value /= 10;
  }
  return out;
}

}  // namespace mvlan::ipam

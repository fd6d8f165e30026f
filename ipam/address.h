#pragma once
// Addresses and prefixes as values, IPv4 and IPv6 alike: parsed once at the edge, compared and
// stepped as 128-bit integers everywhere else.

#include <compare>
#include <optional>
#include <string>
#include <string_view>

namespace mvlan::ipam {

using u128 = unsigned __int128;

enum class Family { V4, V6 };

inline int bits_of(Family f) {
  return f == Family::V4 ? 32 : 128;
}
inline const char* name_of(Family f) {
  return f == Family::V4 ? "IPv4" : "IPv6";
}

class Address {
 public:
  Address() = default;
  static Address v4(std::uint32_t value) { return Address(Family::V4, value); }
  static Address v6(u128 value) { return Address(Family::V6, value); }
  static Address of(Family family, u128 value);

  // Plain address text ("192.0.2.1", "2001:db8::1"); nothing else (no prefix, no zone).
  static std::optional<Address> parse(std::string_view text);
  // Fixed-width big-endian bytes (4 or 16): memcmp order equals numeric order, for the store.
  static std::optional<Address> from_bytes(std::string_view bytes);

  Family family() const { return family_; }
  u128 value() const { return value_; }
  std::string str() const;
  std::string bytes() const;

  bool is_max() const;  // the all-ones address of its family: next() would overflow
  Address next() const { return Address(family_, value_ + 1); }
  Address prev() const { return Address(family_, value_ - 1); }

  friend bool operator==(const Address&, const Address&) = default;
  friend std::strong_ordering operator<=>(const Address& a, const Address& b);

 private:
  Address(Family family, u128 value) : family_(family), value_(value) {}
  Family family_ = Family::V4;
  u128 value_ = 0;
};

// A canonical prefix: host bits are always zero.
class Prefix {
 public:
  Prefix() = default;
  // "192.0.2.0/24". Refuses host bits set (see Cidr for text that may carry them).
  static std::optional<Prefix> parse(std::string_view text);
  static Prefix of(const Address& any_member, int length);

  Family family() const { return network_.family(); }
  int length() const { return length_; }
  const Address& network() const { return network_; }  // the first address
  Address last() const;                                // broadcast for IPv4
  std::string str() const;

  bool contains(const Address& a) const;
  bool contains(const Prefix& p) const;
  bool overlaps(const Prefix& p) const;

  friend bool operator==(const Prefix&, const Prefix&) = default;

 private:
  Prefix(Address network, int length) : network_(network), length_(length) {}
  Address network_;
  int length_ = 0;
};

// An address with a prefix length, host bits allowed: "192.0.2.1/24" (Docker's interface form).
struct Cidr {
  Address address;
  int length = 0;

  static std::optional<Cidr> parse(std::string_view text);
  Prefix prefix() const { return Prefix::of(address, length); }
  bool has_host_bits() const { return prefix().network() != address; }
  std::string str() const;
  friend bool operator==(const Cidr&, const Cidr&) = default;
};

std::string to_string(u128 value);  // decimal, for counts of addresses

// The text of an optional address, prefix or CIDR; `none` when there is none.
template <typename T>
std::string str_or(const std::optional<T>& value, const std::string& none = "") {
  return value ? value->str() : none;
}

}  // namespace mvlan::ipam

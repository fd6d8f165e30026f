#include <catch2/catch.hpp>

#include "ipam/address.h"

using namespace mvlan::ipam;

TEST_CASE("IPv4 and IPv6 addresses parse and print back canonically", "[address]") {
  CHECK(Address::parse("192.0.2.1")->str() == "192.0.2.1");
  CHECK(Address::parse("2001:db8:0:0::1")->str() == "2001:db8::1");
  CHECK(Address::parse("2001:DB8::A")->str() == "2001:db8::a");
  CHECK(Address::parse("0.0.0.0")->value() == 0);
  CHECK(Address::parse("255.255.255.255")->is_max());
  CHECK(Address::parse("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")->is_max());
  CHECK(Address::parse("192.0.2.1")->family() == Family::V4);
  CHECK(Address::parse("::")->family() == Family::V6);
}

TEST_CASE("malformed addresses are refused", "[address]") {
  for (const char* bad : {"", "192.0.2", "192.0.2.256", "192.0.2.1/24", "1.2.3.4.5", "abc",
                          "2001:db8::1::2", "2001:db8::g", "fe80::1%eth0", " 192.0.2.1",
                          "192.0.2.1 "}) {
    INFO(bad);
    CHECK_FALSE(Address::parse(bad));
  }
  CHECK_FALSE(Address::parse(std::string(1000, '1')));
}

TEST_CASE("addresses order and step numerically, across octet and group boundaries",
          "[address]") {
  CHECK(Address::parse("192.0.2.255")->next() == *Address::parse("192.0.3.0"));
  CHECK(Address::parse("192.0.3.0")->prev() == *Address::parse("192.0.2.255"));
  CHECK(Address::parse("2001:db8::ffff")->next() == *Address::parse("2001:db8::1:0"));
  CHECK(*Address::parse("192.0.2.9") < *Address::parse("192.0.2.10"));
  CHECK(*Address::parse("2001:db8::9") < *Address::parse("2001:db8::10"));
}

TEST_CASE("addresses round-trip through the store's byte form in numeric order", "[address]") {
  auto a = *Address::parse("192.0.2.9");
  auto b = *Address::parse("192.0.2.10");
  CHECK(a.bytes().size() == 4);
  CHECK(a.bytes() < b.bytes());
  CHECK(*Address::from_bytes(a.bytes()) == a);
  auto v6 = *Address::parse("2001:db8::1:2");
  CHECK(v6.bytes().size() == 16);
  CHECK(*Address::from_bytes(v6.bytes()) == v6);
  CHECK_FALSE(Address::from_bytes("abc"));
}

TEST_CASE("prefixes refuse host bits, and Cidr keeps them for interface addresses", "[prefix]") {
  CHECK(Prefix::parse("192.0.2.0/24")->str() == "192.0.2.0/24");
  CHECK_FALSE(Prefix::parse("192.0.2.1/24"));
  auto c = Cidr::parse("192.0.2.1/24");
  REQUIRE(c);
  CHECK(c->has_host_bits());
  CHECK(c->prefix().str() == "192.0.2.0/24");
  CHECK(c->str() == "192.0.2.1/24");
  for (const char* bad : {"192.0.2.0", "192.0.2.0/33", "192.0.2.0/-1", "192.0.2.0/", "/24",
                          "2001:db8::/129", "192.0.2.0/2a", "192.0.2.0/024x"}) {
    INFO(bad);
    CHECK_FALSE(Cidr::parse(bad));
  }
}

TEST_CASE("prefix edge lengths /0 /8 /31 /32 /64 /127 /128 have the right first and last",
          "[prefix]") {
  CHECK(Prefix::parse("0.0.0.0/0")->last().str() == "255.255.255.255");
  CHECK(Prefix::parse("198.0.0.0/8")->last().str() == "198.255.255.255");
  CHECK(Prefix::parse("192.0.2.4/31")->last().str() == "192.0.2.5");
  CHECK(Prefix::parse("192.0.2.4/32")->last().str() == "192.0.2.4");
  CHECK(Prefix::parse("2001:db8::/64")->last().str() == "2001:db8::ffff:ffff:ffff:ffff");
  CHECK(Prefix::parse("2001:db8::/127")->last().str() == "2001:db8::1");
  CHECK(Prefix::parse("2001:db8::5/128")->last().str() == "2001:db8::5");
  CHECK(Prefix::parse("::/0")->last().is_max());
}

TEST_CASE("contains and overlaps respect family and nesting", "[prefix]") {
  auto p24 = *Prefix::parse("192.0.2.0/24");
  auto p26 = *Prefix::parse("192.0.2.64/26");
  auto other = *Prefix::parse("198.51.100.0/24");
  CHECK(p24.contains(*Address::parse("192.0.2.0")));
  CHECK(p24.contains(*Address::parse("192.0.2.255")));
  CHECK_FALSE(p24.contains(*Address::parse("192.0.3.0")));
  CHECK_FALSE(p24.contains(*Address::parse("::c000:201")));
  CHECK(p24.contains(p26));
  CHECK_FALSE(p26.contains(p24));
  CHECK(p24.overlaps(p26));
  CHECK(p26.overlaps(p24));
  CHECK_FALSE(p24.overlaps(other));
  CHECK(Prefix::parse("0.0.0.0/0")->contains(p24));
}

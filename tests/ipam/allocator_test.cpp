#include <catch2/catch.hpp>
#include <map>
#include <tuple>

#include "ipam/allocator.h"
#include "common/error.h"

using namespace mvlan::ipam;

namespace {

Address ip(const char* s) { return *Address::parse(s); }

// Taken runs over a plain set of addresses, the way a store keeps them.
struct Runs {
  std::map<u128, u128> by_lo;  // lo -> hi
  void take(const Address& a) {
    by_lo[a.value()] = a.value();
    // merge neighbours (tests use few addresses; rebuild for clarity)
    std::map<u128, u128> merged;
    for (auto [lo, hi] : by_lo) {
      if (!merged.empty() && std::prev(merged.end())->second + 1 >= lo) {
        auto& last = std::prev(merged.end())->second;
        last = std::max(last, hi);
      } else {
        merged[lo] = hi;
      }
    }
    by_lo = merged;
  }
  RunLookup lookup(Family f) const {
    return [this, f](const Address& x) -> std::optional<Run> {
      auto it = by_lo.upper_bound(x.value());
      if (it == by_lo.begin()) return std::nullopt;
      --it;
      return Run{Address::of(f, it->first), Address::of(f, it->second)};
    };
  }
};

PoolRequest request(const char* pool, const char* range = "", bool v6 = false) {
  PoolRequest r;
  r.address_space = "LocalDefault";
  r.pool = pool;
  r.sub_pool = range;
  r.v6 = v6;
  return r;
}

Pool pool_of(const char* subnet, const char* range = nullptr) {
  Pool p;
  p.subnet = *Prefix::parse(subnet);
  if (range) p.range = Prefix::parse(range);
  return p;
}

std::string refusal(const PoolRequest& r) {
  try {
    validate_pool_request(r);
  } catch (const mvlan::Error& e) {
    CHECK(e.kind == mvlan::ErrorKind::Invalid);
    return e.what();
  }
  return "accepted";
}

}  // namespace

TEST_CASE("a pool with host bits set is refused with the corrected prefix", "[rules]") {
  CHECK_THAT(refusal(request("192.0.2.1/24")),
             Catch::Contains("Pool \"192.0.2.1/24\"") && Catch::Contains("192.0.2.0/24"));
}

TEST_CASE("an ip-range must lie inside its pool and needs a pool", "[rules]") {
  CHECK_THAT(refusal(request("192.0.2.0/24", "198.51.100.0/26")),
             Catch::Contains("SubPool") && Catch::Contains("inside the pool 192.0.2.0/24"));
  CHECK_THAT(refusal(request("", "192.0.2.0/26")), Catch::Contains("needs an explicit Pool"));
  CHECK(refusal(request("192.0.2.0/24", "192.0.2.64/26")) == "accepted");
}

TEST_CASE("the V6 flag and the prefix family must agree", "[rules]") {
  CHECK_THAT(refusal(request("2001:db8::/64")), Catch::Contains("IPv6 prefix in a request for an IPv4"));
  CHECK_THAT(refusal(request("192.0.2.0/24", "", true)), Catch::Contains("IPv4 prefix in a request for an IPv6"));
  CHECK(refusal(request("2001:db8:1::/64", "", true)) == "accepted");
}

TEST_CASE("absurdly short pools and unknown address spaces are refused", "[rules]") {
  CHECK_THAT(refusal(request("0.0.0.0/0")), Catch::Contains("/8 to /32"));
  CHECK(refusal(request("198.0.0.0/8")) == "accepted");
  CHECK(refusal(request("2001:db8::/48", "", true)) == "accepted");
  auto r = request("192.0.2.0/24");
  r.address_space = "Elsewhere";
  CHECK_THAT(refusal(r), Catch::Contains("LocalDefault and GlobalDefault"));
}

TEST_CASE("unknown ipam options are refused with the list of valid ones", "[rules]") {
  auto r = request("192.0.2.0/24");
  r.options["foo"] = "bar";
  CHECK_THAT(refusal(r), Catch::Contains("\"foo\"") && Catch::Contains("allocation=round-robin|lowest"));
  r.options = {{"allocation", "random"}};
  CHECK_THAT(refusal(r), Catch::Contains("round-robin (default) and lowest"));
  r.options = {{"allocation", "lowest"}};
  CHECK(validate_pool_request(r).order == AllocationOrder::Lowest);
}

TEST_CASE("sticky is on unless --ipam-opt sticky=false, other values are refused", "[rules]") {
  auto r = request("192.0.2.0/24");
  CHECK(validate_pool_request(r).sticky);
  r.options = {{"sticky", "false"}};
  CHECK_FALSE(validate_pool_request(r).sticky);
  r.options = {{"sticky", "true"}};
  CHECK(validate_pool_request(r).sticky);
  r.options = {{"sticky", "no"}};
  CHECK_THAT(refusal(r), Catch::Contains("sticky=\"no\"") &&
                             Catch::Contains("true (default) and false"));
  r.options = {{"foo", "bar"}};
  CHECK_THAT(refusal(r), Catch::Contains("sticky=true|false"));
}

TEST_CASE("IPv4 network and broadcast addresses are never granted, except in /31 and /32",
          "[rules]") {
  auto p24 = *Prefix::parse("192.0.2.0/24");
  CHECK(reserved_by_rule(p24, ip("192.0.2.0")));
  CHECK(reserved_by_rule(p24, ip("192.0.2.255")));
  CHECK_FALSE(reserved_by_rule(p24, ip("192.0.2.1")));
  CHECK_FALSE(reserved_by_rule(*Prefix::parse("192.0.2.4/31"), ip("192.0.2.4")));
  CHECK_FALSE(reserved_by_rule(*Prefix::parse("192.0.2.4/32"), ip("192.0.2.4")));
  auto usable = usable_bounds(p24);
  CHECK(usable->lo == ip("192.0.2.1"));
  CHECK(usable->hi == ip("192.0.2.254"));
  CHECK(capacity(usable_bounds(*Prefix::parse("192.0.2.4/31"))) == 2);
}

TEST_CASE("the IPv6 subnet-router anycast address is never granted", "[rules]") {
  auto p64 = *Prefix::parse("2001:db8:1::/64");
  CHECK(reserved_by_rule(p64, ip("2001:db8:1::")));
  CHECK_FALSE(reserved_by_rule(p64, ip("2001:db8:1::ffff:ffff:ffff:ffff")));
  CHECK(usable_bounds(p64)->lo == ip("2001:db8:1::1"));
}

TEST_CASE("point-to-point subnets hand out every address: both of a /31 and a /127, the one of "
          "a /32 and a /128",
          "[rules]") {
  for (auto [subnet, lo, hi] : std::vector<std::tuple<const char*, const char*, const char*>>{
           {"198.18.0.6/31", "198.18.0.6", "198.18.0.7"},
           {"198.18.0.9/32", "198.18.0.9", "198.18.0.9"},
           {"2001:db8::a/127", "2001:db8::a", "2001:db8::b"},
           {"2001:db8::/127", "2001:db8::", "2001:db8::1"},
           {"2001:db8::5/128", "2001:db8::5", "2001:db8::5"}}) {
    INFO(subnet);
    const auto p = *Prefix::parse(subnet);
    CHECK_FALSE(reserved_by_rule(p, ip(lo)));
    CHECK_FALSE(reserved_by_rule(p, ip(hi)));
    const auto usable = usable_bounds(p);
    REQUIRE(usable);
    CHECK(usable->lo == ip(lo));
    CHECK(usable->hi == ip(hi));
  }
  // One step up, the rules apply again.
  CHECK(capacity(usable_bounds(*Prefix::parse("198.18.0.4/30"))) == 2);
  CHECK(capacity(usable_bounds(*Prefix::parse("2001:db8::/126"))) == 3);
}

TEST_CASE("dynamic addresses come only from the ip-range when one is given", "[rules]") {
  auto b = dynamic_bounds(pool_of("192.0.2.0/24", "192.0.2.64/26"));
  CHECK(b->lo == ip("192.0.2.64"));
  CHECK(b->hi == ip("192.0.2.127"));
  // A range at the subnet's edge still loses the network and broadcast addresses.
  auto edge = dynamic_bounds(pool_of("192.0.2.0/24", "192.0.2.192/26"));
  CHECK(edge->hi == ip("192.0.2.254"));
}

TEST_CASE("round-robin continues after the last grant and wraps", "[rules]") {
  Runs runs;
  Bounds b{ip("192.0.2.1"), ip("192.0.2.4")};
  auto lookup = runs.lookup(Family::V4);
  std::optional<Address> cursor;
  std::vector<std::string> order;
  for (int i = 0; i < 4; ++i) {
    auto a = pick_dynamic(lookup, b, cursor, AllocationOrder::RoundRobin);
    REQUIRE(a);
    runs.take(*a);
    cursor = a;
    order.push_back(a->str());
  }
  CHECK(order == std::vector<std::string>{"192.0.2.1", "192.0.2.2", "192.0.2.3", "192.0.2.4"});
  CHECK_FALSE(pick_dynamic(lookup, b, cursor, AllocationOrder::RoundRobin));
  // Release .2: it is the only free one, so after the wrap it comes back.
  runs = Runs{};
  for (auto s : {"192.0.2.1", "192.0.2.3", "192.0.2.4"}) runs.take(ip(s));
  CHECK(pick_dynamic(runs.lookup(Family::V4), b, cursor, AllocationOrder::RoundRobin) ==
        ip("192.0.2.2"));
}

TEST_CASE("a just-released address is not handed out again at once", "[rules]") {
  Runs runs;
  Bounds b{ip("192.0.2.1"), ip("192.0.2.254")};
  runs.take(ip("192.0.2.1"));
  runs.take(ip("192.0.2.3"));  // .2 was granted and released; cursor is at .3
  auto next = pick_dynamic(runs.lookup(Family::V4), b, ip("192.0.2.3"), AllocationOrder::RoundRobin);
  CHECK(next == ip("192.0.2.4"));
  // Docker's order would have reused .2 at once; "lowest" reproduces that on request.
  CHECK(pick_dynamic(runs.lookup(Family::V4), b, ip("192.0.2.3"), AllocationOrder::Lowest) ==
        ip("192.0.2.2"));
}

TEST_CASE("first_free jumps over a whole run of taken addresses in one lookup", "[rules]") {
  Runs runs;
  for (int i = 1; i <= 200; ++i) runs.take(Address::v4(0xC0000200u + static_cast<unsigned>(i)));
  int lookups = 0;
  auto base = runs.lookup(Family::V4);
  RunLookup counting = [&](const Address& x) {
    ++lookups;
    return base(x);
  };
  CHECK(first_free(counting, ip("192.0.2.1"), ip("192.0.2.254")) == ip("192.0.2.201"));
  CHECK(lookups == 1);
}

TEST_CASE("a gateway without an address takes the first free of the range, else the subnet",
          "[rules]") {
  Runs runs;
  auto pool = pool_of("192.0.2.0/24", "192.0.2.64/26");
  CHECK(pick_gateway(runs.lookup(Family::V4), pool) == ip("192.0.2.64"));
  auto full = pool_of("192.0.2.0/24", "192.0.2.64/32");
  runs.take(ip("192.0.2.64"));
  CHECK(pick_gateway(runs.lookup(Family::V4), full) == ip("192.0.2.1"));
}

TEST_CASE("default pools are carved in order, skipping any that overlap", "[rules]") {
  auto defaults = parse_default_pools("198.18.0.0/15/24,fd6d:766c:616e::/48/64");
  REQUIRE(defaults.size() == 2);
  std::vector<Prefix> taken{*Prefix::parse("198.18.0.0/23")};
  auto overlap = [&](const Prefix& c) -> std::optional<Prefix> {
    for (auto& t : taken)
      if (t.overlaps(c)) return t;
    return std::nullopt;
  };
  CHECK(pick_default_pool(defaults, Family::V4, overlap)->str() == "198.18.2.0/24");
  CHECK(pick_default_pool(defaults, Family::V6, overlap)->str() == "fd6d:766c:616e::/64");
  taken = {*Prefix::parse("198.18.0.0/15")};
  CHECK_FALSE(pick_default_pool(defaults, Family::V4, overlap));
  CHECK_THROWS_WITH(parse_default_pools("198.18.0.0/15"), Catch::Contains("cidr/size"));
  CHECK_THROWS_WITH(parse_default_pools("198.18.0.0/15/12"), Catch::Contains("size must be"));
}

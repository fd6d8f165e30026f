#pragma once
// What every PoolStore answers alike, whatever keeps its state: a test file defines `StickyStore`
// (see sticky_rules.h) and includes this header after sticky_rules.h, so the SQLite and the etcd
// store are held to the same errors for the same mistakes.

#include <catch2/catch.hpp>

#include "ipam/pool_store.h"
#include "tests/ipam/store_fixtures.h"

namespace mvlan::ipam::test {

TEST_CASE("an unknown PoolID is refused with the ID quoted and escaped", "[store-rules]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  CHECK_THROWS_WITH(pools.request_address("LocalDefault/nope\n\"x", any()),
                    Catch::Equals("unknown PoolID \"LocalDefault/nope\\n\\\"x\": mvlan holds no "
                                  "such pool (it was released, or never requested here)"));
  CHECK(kind_of([&] { pools.request_address("nope", any()); }) == ErrorKind::NotFound);
  CHECK_THROWS_WITH(pools.forget("nope\n", "web"),
                    Catch::Equals("unknown pool \"nope\\n\"; mvlan status lists them"));
}

TEST_CASE("overlapping pools without their own ip-ranges are refused alike", "[store-rules]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/24")).id;
  CHECK(id == "LocalDefault/192.0.2.0/24");
  CHECK_THROWS_WITH(pools.request_pool(spec("192.0.2.0/25")),
                    Catch::Equals("Pool 192.0.2.0/25 overlaps pool 192.0.2.0/24 of another "
                                  "network in address space LocalDefault; networks may share a "
                                  "subnet only when each gives its own --ip-range"));
  CHECK(kind_of([&] { pools.request_pool(spec("192.0.2.0/24")); }) == ErrorKind::Conflict);
}

TEST_CASE("status_of shows the pools of one subnet as status() does, and no other",
          "[store-rules]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto low = pools.request_pool(spec("192.0.2.0/24", "192.0.2.0/25")).id;
  const auto high = pools.request_pool(spec("192.0.2.0/24", "192.0.2.128/25")).id;
  const auto other = pools.request_pool(spec("198.51.100.0/24")).id;
  pools.request_address(low, gateway("192.0.2.1"));
  pools.request_address(low, any());
  pools.request_address(high, any());
  pools.request_address(other, any());
  const auto subnet = *Prefix::parse("192.0.2.0/24");
  const auto some = pools.status_of(kLocalSpace, subnet);
  REQUIRE(some.size() == 2);
  for (const auto& s : some) {
    bool found = false;
    for (const auto& all : pools.status()) {
      if (all.pool.id != s.pool.id) continue;
      found = true;
      CHECK(s.allocations.size() == all.allocations.size());
      for (size_t i = 0; i < s.allocations.size() && i < all.allocations.size(); ++i) {
        CHECK(s.allocations[i].address == all.allocations[i].address);
        CHECK(s.allocations[i].kind == all.allocations[i].kind);
      }
      CHECK(s.cursor == all.cursor);
      CHECK(s.dynamic_capacity == all.dynamic_capacity);
    }
    CHECK(found);
  }
  CHECK(some[0].pool.id == low);
  CHECK(some[0].allocations.size() == 2);
  CHECK(some[1].pool.id == high);
  CHECK(some[1].allocations.size() == 1);
  CHECK(pools.status_of(kGlobalSpace, subnet).empty());
  CHECK(pools.status_of(kLocalSpace, *Prefix::parse("192.0.2.0/25")).empty());
  REQUIRE(pools.status_of(kLocalSpace, *Prefix::parse("198.51.100.0/24")).size() == 1);
}

}  // namespace mvlan::ipam::test

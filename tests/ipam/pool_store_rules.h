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

}  // namespace mvlan::ipam::test

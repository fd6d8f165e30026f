#include <catch2/catch.hpp>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "ipam/allocator.h"
#include "store/database.h"
#include "common/error.h"
#include "ipam/sqlite_pool_store.h"
#include "tests/ipam/store_fixtures.h"

using namespace mvlan;
using namespace mvlan::ipam;
using namespace mvlan::ipam::test;

TEST_CASE("reopening the database preserves pools, grants and the round-robin cursor", "[store]") {
  TempDir dir;
  std::string id;
  {
    store::Database db(dir.db(), store::Database::Mode::ReadWrite);
    SqlitePoolStore pools(db, parse_default_pools(kDefaultPools));
    id = pools.request_pool(spec("192.0.2.0/24")).id;
    CHECK(pools.request_address(id, gateway("192.0.2.1")).str() == "192.0.2.1/24");
    CHECK(pools.request_address(id, at("192.0.2.21")).str() == "192.0.2.21/24");
    CHECK(pools.request_address(id, any()).str() == "192.0.2.2/24");
    CHECK(pools.request_address(id, any()).str() == "192.0.2.3/24");
    CHECK(pools.release_address(id, *Address::parse("192.0.2.3")));
  }
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, {});
  REQUIRE(pools.find_pool(id));
  // .3 was just released: round-robin goes on to .4, and .21 (aux) is never handed out.
  CHECK(pools.request_address(id, any()).str() == "192.0.2.4/24");
  auto status = pools.status();
  REQUIRE(status.size() == 1);
  CHECK(status[0].allocations.size() == 4);
  CHECK(kind_of([&] { pools.request_address(id, at("192.0.2.21")); }) == ErrorKind::Conflict);
}

TEST_CASE("aux and gateway addresses are skipped by dynamic allocation", "[store]") {
  TempDir dir;
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, {});
  auto id = pools.request_pool(spec("192.0.2.0/29")).id;  // usable .1-.6
  pools.request_address(id, gateway());                   // .1
  pools.request_address(id, at("192.0.2.3"));             // aux
  std::set<std::string> got;
  for (int i = 0; i < 4; ++i) got.insert(pools.request_address(id, any()).address.str());
  CHECK(got == std::set<std::string>{"192.0.2.2", "192.0.2.4", "192.0.2.5", "192.0.2.6"});
  CHECK(kind_of([&] { pools.request_address(id, any()); }) == ErrorKind::Exhausted);
}

TEST_CASE("specific addresses are refused when taken, reserved or outside, naming them",
          "[store]") {
  TempDir dir;
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, {});
  auto id = pools.request_pool(spec("192.0.2.0/24", "192.0.2.64/26")).id;
  pools.request_address(id, at("192.0.2.50", "02:42:c0:00:02:32"));  // static: anywhere in subnet
  CHECK_THROWS_WITH(pools.request_address(id, at("192.0.2.50")),
                    Catch::Contains("192.0.2.50 is already in use") &&
                        Catch::Contains("02:42:c0:00:02:32"));
  CHECK_THROWS_WITH(pools.request_address(id, at("192.0.2.0")),
                    Catch::Contains("network address"));
  CHECK_THROWS_WITH(pools.request_address(id, at("192.0.2.255")),
                    Catch::Contains("broadcast address"));
  CHECK_THROWS_WITH(pools.request_address(id, at("198.51.100.1")),
                    Catch::Contains("outside pool 192.0.2.0/24"));
  CHECK_THROWS_WITH(pools.request_address(id, at("2001:db8::1")), Catch::Contains("IPv6"));
  CHECK_THROWS_WITH(pools.request_address("LocalDefault/nope", any()),
                    Catch::Contains("unknown PoolID"));
}

TEST_CASE("overlapping pools are refused unless both carry an ip-range, then share one set",
          "[store]") {
  TempDir dir;
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, {});
  auto a = pools.request_pool(spec("192.0.2.0/24", "192.0.2.0/25"));
  CHECK(kind_of([&] { pools.request_pool(spec("192.0.2.0/24")); }) == ErrorKind::Conflict);
  CHECK(kind_of([&] { pools.request_pool(spec("192.0.2.0/26")); }) == ErrorKind::Conflict);
  auto b = pools.request_pool(spec("192.0.2.0/24", "192.0.2.128/25"));
  CHECK(a.set_id == b.set_id);
  CHECK(a.id != b.id);
  // A static address taken through one pool is taken for the other.
  pools.request_address(a.id, at("192.0.2.200", "02:00:00:00:00:01"));
  CHECK(kind_of([&] { pools.request_address(b.id, at("192.0.2.200")); }) == ErrorKind::Conflict);
  // Dynamic grants from b skip it.
  for (int i = 0; i < 126; ++i) {
    CHECK(pools.request_address(b.id, any()).address.str() != "192.0.2.200");
  }
  // Identical subnet and range twice also shares, under a distinct id.
  auto c = pools.request_pool(spec("192.0.2.0/24", "192.0.2.128/25"));
  CHECK(c.id != b.id);
  CHECK(c.set_id == a.set_id);
  // Disjoint pools and other address spaces do not clash.
  CHECK_NOTHROW(pools.request_pool(spec("198.51.100.0/24")));
}

TEST_CASE("nested pools that both have ip-ranges merge their address sets", "[store]") {
  TempDir dir;
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, {});
  auto small1 = pools.request_pool(spec("198.18.1.0/24", "198.18.1.0/25"));
  auto small2 = pools.request_pool(spec("198.18.2.0/24", "198.18.2.0/25"));
  pools.request_address(small1.id, at("198.18.1.10", "02:00:00:00:00:01"));
  pools.request_address(small2.id, at("198.18.2.10", "02:00:00:00:00:02"));
  auto big = pools.request_pool(spec("198.18.0.0/16", "198.18.1.0/24"));
  CHECK(pools.find_pool(small1.id)->set_id == big.set_id);
  CHECK(pools.find_pool(small2.id)->set_id == big.set_id);
  CHECK(kind_of([&] { pools.request_address(big.id, at("198.18.2.10")); }) == ErrorKind::Conflict);
}

TEST_CASE("ReleasePool frees every address of the pool and is idempotent", "[store]") {
  TempDir dir;
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, {});
  auto a = pools.request_pool(spec("192.0.2.0/24", "192.0.2.0/25"));
  auto b = pools.request_pool(spec("192.0.2.0/24", "192.0.2.128/25"));
  pools.request_address(a.id, gateway("192.0.2.1"));
  pools.request_address(a.id, any());
  pools.request_address(b.id, at("192.0.2.130", "02:00:00:00:00:03"));
  CHECK(pools.release_pool(a.id));
  CHECK_FALSE(pools.release_pool(a.id));
  CHECK_FALSE(pools.find_pool(a.id));
  // b keeps its own grant; a's addresses are free again for b.
  CHECK(kind_of([&] { pools.request_address(b.id, at("192.0.2.130")); }) == ErrorKind::Conflict);
  CHECK(pools.request_address(b.id, at("192.0.2.1")).address.str() == "192.0.2.1");
  CHECK_FALSE(pools.release_address(a.id, *Address::parse("192.0.2.2")));
}

TEST_CASE("releasing an address twice is harmless", "[store]") {
  TempDir dir;
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, {});
  auto id = pools.request_pool(spec("192.0.2.0/24")).id;
  auto a = pools.request_address(id, any()).address;
  CHECK(pools.release_address(id, a));
  CHECK_FALSE(pools.release_address(id, a));
}

TEST_CASE("an empty Pool picks the first default pool that overlaps nothing", "[store]") {
  TempDir dir;
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, parse_default_pools("198.18.0.0/23/24,2001:db8:7::/63/64"));
  CHECK(pools.request_pool(spec("198.18.0.0/24")).subnet.str() == "198.18.0.0/24");
  CHECK(pools.request_pool(spec("")).subnet.str() == "198.18.1.0/24");
  CHECK(kind_of([&] { pools.request_pool(spec("")); }) == ErrorKind::Exhausted);
  CHECK(pools.request_pool(spec("", nullptr, true)).subnet.str() == "2001:db8:7::/64");
}

TEST_CASE("large pools cost constant work per grant: a /8 and IPv6 /64 and /48", "[store]") {
  TempDir dir;
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, {});
  for (auto [subnet, v6] : {std::pair{"198.0.0.0/8", false}, std::pair{"2001:db8:1::/64", true},
                            std::pair{"2001:db8:2::/48", true}}) {
    auto id = pools.request_pool(spec(subnet, nullptr, v6)).id;
    std::set<std::string> seen;
    for (int i = 0; i < 300; ++i) seen.insert(pools.request_address(id, any()).address.str());
    CHECK(seen.size() == 300);
    auto st = pools.status();
    CHECK(std::any_of(st.begin(), st.end(), [&](auto& s) { return s.pool.id == id; }));
  }
  auto st = pools.status();
  // The /64 holds 2^64 addresses less its subnet-router anycast address.
  CHECK(ipam::to_string(st[1].dynamic_capacity) == "18446744073709551615");
}

TEST_CASE("16 threads allocating at once never get the same address", "[store]") {
  TempDir dir;
  store::Database db(dir.db(), store::Database::Mode::ReadWrite);
  SqlitePoolStore pools(db, {});
  auto id = pools.request_pool(spec("198.18.0.0/16")).id;
  std::mutex m;
  std::multiset<std::string> all;
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      std::vector<std::string> mine;
      for (int i = 0; i < 40; ++i) {
        auto a = pools.request_address(id, any()).address;
        mine.push_back(a.str());
        if (i % 3 == t % 3) pools.release_address(id, a);  // churn: release some at once
      }
      std::lock_guard lock(m);
      all.insert(mine.begin(), mine.end());
    });
  }
  for (auto& t : threads) t.join();
  // Round-robin never hands a released address back within one cycle of a /16.
  CHECK(std::set<std::string>(all.begin(), all.end()).size() == all.size());
  CHECK(all.size() == 640);
}

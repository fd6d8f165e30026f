#pragma once
// The sticky-address rules, one suite for every PoolStore: a test file defines `StickyStore`
// (a fresh store: pools(), restart() to open it again on the same state, kChurnSteps) and then
// includes this header, so the SQLite and the etcd store are held to the very same cases.
// A container's name (engines >= 29 send it) gets its address back after a release, parked
// addresses rest until no other is free, and no address is ever granted twice.

#include <catch2/catch.hpp>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "ipam/pool_store.h"
#include "tests/ipam/store_fixtures.h"

namespace mvlan::ipam::test {

inline AddressRequest named(const char* name, const char* address = nullptr) {
  AddressRequest r;
  r.name = name;
  if (address) r.address = Address::parse(address);
  return r;
}

inline Address addr(const char* text) {
  return *Address::parse(text);
}

inline std::string grant(PoolStore& pools, const std::string& id, const AddressRequest& r) {
  return pools.request_address(id, r).address.str();
}

inline std::optional<Binding> bound(const PoolStatus& s, const std::string& name) {
  for (const auto& b : s.bindings) {
    if (b.name == name) return b;
  }
  return std::nullopt;
}

inline PoolSpec not_sticky(const char* subnet) {
  PoolRequest r;
  r.address_space = kLocalSpace;
  r.pool = subnet;
  r.options = {{"sticky", "false"}};
  return validate_pool_request(r);
}

TEST_CASE("a name released and asked for again gets its address back, across a restart",
          "[sticky]") {
  StickyStore store;
  std::string id;
  {
    PoolStore& pools = store.pools();
    id = pools.request_pool(spec("192.0.2.0/24")).id;
    pools.request_address(id, gateway());
    CHECK(grant(pools, id, named("web")) == "192.0.2.2");
    CHECK(grant(pools, id, named("db")) == "192.0.2.3");
    CHECK(pools.release_address(id, addr("192.0.2.2")));
    // Another container comes and goes meanwhile: round-robin goes on, it does not take .2.
    CHECK(grant(pools, id, any()) == "192.0.2.4");
  }
  store.restart();
  PoolStore& pools = store.pools();
  CHECK(grant(pools, id, named("web")) == "192.0.2.2");
  const auto s = pools.status().at(0);
  REQUIRE(bound(s, "web"));
  CHECK_FALSE(bound(s, "web")->parked_at);
}

TEST_CASE("a parked address is never granted to another name while others are free",
          "[sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/28")).id;  // usable .1-.14
  for (const char* n : {"a", "b", "c"}) grant(pools, id, named(n));  // .1 .2 .3
  for (const char* a : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) {
    CHECK(pools.release_address(id, addr(a)));
  }
  std::set<std::string> others;
  for (int i = 0; i < 11; ++i) others.insert(grant(pools, id, named(("n" + std::to_string(i)).c_str())));
  CHECK(others.size() == 11);
  for (const char* parked : {"192.0.2.1", "192.0.2.2", "192.0.2.3"}) CHECK(others.count(parked) == 0);
  // Still theirs:
  CHECK(grant(pools, id, named("b")) == "192.0.2.2");
}

TEST_CASE("a pool full of parked names still serves new ones, the longest parked first",
          "[sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/29")).id;  // usable .1-.6
  pools.request_address(id, gateway());                          // .1
  const char* names[] = {"a", "b", "c", "d", "e"};                // .2-.6
  for (const char* n : names) grant(pools, id, named(n));
  // Parked in this order: c, a, e, b, d.
  for (const char* a : {"192.0.2.4", "192.0.2.2", "192.0.2.6", "192.0.2.3", "192.0.2.5"}) {
    CHECK(pools.release_address(id, addr(a)));
  }
  CHECK(grant(pools, id, named("x")) == "192.0.2.4");  // c's
  CHECK(grant(pools, id, any()) == "192.0.2.2");       // a's, to a request with no name
  CHECK(grant(pools, id, named("y")) == "192.0.2.6");  // e's
  const auto s = pools.status().at(0);
  CHECK_FALSE(bound(s, "c"));
  CHECK_FALSE(bound(s, "a"));
  REQUIRE(bound(s, "x"));
  CHECK(bound(s, "x")->address.str() == "192.0.2.4");
  // b and d are still parked: c (evicted) gets b's, the oldest left, and is bound to it.
  CHECK(grant(pools, id, named("c")) == "192.0.2.3");
  CHECK(grant(pools, id, named("d")) == "192.0.2.5");
  CHECK(kind_of([&] { pools.request_address(id, named("z")); }) == ErrorKind::Exhausted);
}

TEST_CASE("a name given with --ip is bound there and frees the address it had parked", "[sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/24")).id;
  CHECK(grant(pools, id, named("web")) == "192.0.2.1");
  CHECK(pools.release_address(id, addr("192.0.2.1")));
  CHECK(grant(pools, id, named("web", "192.0.2.50")) == "192.0.2.50");
  auto s = pools.status().at(0);
  REQUIRE(bound(s, "web"));
  CHECK(bound(s, "web")->address.str() == "192.0.2.50");
  CHECK(s.allocations.size() == 1);  // .1 is free again
  // And without --ip next time, web comes back to .50.
  CHECK(pools.release_address(id, addr("192.0.2.50")));
  CHECK(grant(pools, id, named("web")) == "192.0.2.50");
}

TEST_CASE("an --ip on another name's parked address takes it, and that name is bound afresh later",
          "[sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/24")).id;
  CHECK(grant(pools, id, named("web")) == "192.0.2.1");
  CHECK(pools.release_address(id, addr("192.0.2.1")));
  CHECK(grant(pools, id, at("192.0.2.1")) == "192.0.2.1");  // engine 28: --ip, no name
  CHECK_FALSE(bound(pools.status().at(0), "web"));
  const std::string fresh = grant(pools, id, named("web"));
  CHECK(fresh != "192.0.2.1");
  REQUIRE(bound(pools.status().at(0), "web"));
  CHECK(bound(pools.status().at(0), "web")->address.str() == fresh);
  // A held address stays refused, as before.
  CHECK(kind_of([&] { pools.request_address(id, named("db", "192.0.2.1")); }) ==
        ErrorKind::Conflict);
}

TEST_CASE("a name asked for while its address is held gets a fresh one, and nothing twice",
          "[sticky]") {
  // `docker rename web old && docker run --name web`: the first container keeps its address.
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/24")).id;
  CHECK(grant(pools, id, named("web")) == "192.0.2.1");
  CHECK(grant(pools, id, named("web")) == "192.0.2.2");
  auto s = pools.status().at(0);
  CHECK(s.allocations.size() == 2);
  CHECK(bound(s, "web")->address.str() == "192.0.2.2");
  // The old container's release frees its address for good: no name holds it.
  CHECK(pools.release_address(id, addr("192.0.2.1")));
  CHECK(pools.status().at(0).allocations.size() == 1);
}

TEST_CASE("gateway and --aux-address requests bind nothing, and a released address is parked once",
          "[sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/24")).id;
  AddressRequest gw = gateway();
  gw.name = "ignored";
  pools.request_address(id, gw);
  pools.request_address(id, at("192.0.2.9"));
  CHECK(pools.status().at(0).bindings.empty());
  grant(pools, id, named("web"));  // .2
  CHECK(pools.release_address(id, addr("192.0.2.2")));
  const auto first = bound(pools.status().at(0), "web")->parked_at;
  CHECK_FALSE(pools.release_address(id, addr("192.0.2.2")));  // Docker releasing twice
  CHECK(bound(pools.status().at(0), "web")->parked_at == first);
}

TEST_CASE("sticky=false keeps today's behaviour: names are ignored", "[sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(not_sticky("192.0.2.0/29")).id;  // .1-.6
  CHECK_FALSE(pools.status().at(0).pool.sticky);
  CHECK(grant(pools, id, named("web")) == "192.0.2.1");
  CHECK(pools.release_address(id, addr("192.0.2.1")));
  CHECK(grant(pools, id, named("web")) == "192.0.2.2");
  CHECK(pools.status().at(0).bindings.empty());
  CHECK(pools.status().at(0).allocations.size() == 1);
}

TEST_CASE("forget frees a parked name's address, refuses a held one, and releasing the pool "
          "drops every binding",
          "[sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/24")).id;
  grant(pools, id, named("web"));  // .1
  grant(pools, id, named("db"));   // .2
  CHECK(kind_of([&] { pools.forget(id, "web"); }) == ErrorKind::Conflict);
  CHECK(kind_of([&] { pools.forget(id, "nobody"); }) == ErrorKind::NotFound);
  CHECK(pools.release_address(id, addr("192.0.2.1")));
  CHECK(pools.forget(id, "web").str() == "192.0.2.1");
  CHECK(pools.status().at(0).allocations.size() == 1);
  CHECK_FALSE(bound(pools.status().at(0), "web"));
  CHECK(pools.release_pool(id));
  const auto again = pools.request_pool(spec("192.0.2.0/24")).id;
  CHECK(pools.status().at(0).bindings.empty());
  CHECK(pools.status().at(0).allocations.empty());  // db's held address went with the pool
  const std::string fresh = grant(pools, again, named("db"));
  REQUIRE(bound(pools.status().at(0), "db"));
  CHECK(bound(pools.status().at(0), "db")->address.str() == fresh);
}

TEST_CASE("under random churn no address is ever held twice, a parked name always gets its "
          "address back, and every grant binds its name",
          "[sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/28")).id;  // 14 usable
  std::mt19937 rng(20261202);
  std::map<std::string, std::string> running;  // name -> address
  int came_back = 0;
  for (int step = 0; step < StickyStore::kChurnSteps; ++step) {
    const std::string name = "c" + std::to_string(rng() % 24);
    if (running.count(name)) {
      CHECK(pools.release_address(id, addr(running[name].c_str())));
      running.erase(name);
      continue;
    }
    if (running.size() == 14) continue;
    std::optional<Address> parked;
    if (auto b = bound(pools.status().at(0), name)) {
      REQUIRE(b->parked_at);
      parked = b->address;
    }
    const std::string a = grant(pools, id, named(name.c_str()));
    for (const auto& [other, held] : running) REQUIRE(held != a);
    if (parked) {
      CHECK(parked->str() == a);
      ++came_back;
    }
    const auto now = bound(pools.status().at(0), name);
    REQUIRE(now);
    CHECK(now->address.str() == a);
    running[name] = a;
  }
  CHECK(came_back > StickyStore::kChurnSteps / 30);  // the property was exercised, not vacuous
}

}  // namespace mvlan::ipam::test

// Networks of several subnets: the gateway each endpoint gets (per address and family), the
// gateways mvlan picks when the engine skipped them, point-to-point subnets, host access across
// subnets, and networks stored before subnets were recorded. Fake kernel, temporary database.

#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <set>

#include "common/error.h"
#include "store/network_store.h"
#include "store/schema.h"
#include "ipam/sqlite_pool_store.h"
#include "plugin/network_driver.h"
#include "plugin/network_subnets.h"
#include "tests/support/endpoint_request.h"
#include "tests/support/fake_kernel.h"
#include "tests/support/network_request.h"
#include "tests/support/refusal.h"

using namespace mvlan;
using namespace mvlan::plugin;
using mvlan::test::FakeKernel;
using mvlan::test::IpamData;
using mvlan::test::NetworkBody;

namespace {

const std::string kNet = "dd884eff7552ed298b061a016836dcba0cf0383a87432ce88b41be817f47685d";
const std::string kEpA = "186048c5dbd0dc2ae5343b39705c208bcfda9d6cb5c194954118d742d76546ad";
const std::string kEpB = "60d9877deda382f7e23595cd12421c3b1e646cccdb34a95ce0d54f7d8361f382";
const std::string kHostLink = "mhdd884eff7552";

// The driver over mvlan's own IPAM in one temporary database, as `mvlan serve` runs them.
struct Lab {
  std::string dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::NetworkStore> store;
  std::unique_ptr<ipam::SqlitePoolStore> pools;
  FakeKernel kernel;
  std::unique_ptr<NetworkDriver> driver;
  std::map<std::string, std::string> pool_ids;  // subnet -> PoolID

  Lab() {
    char tmpl[] = "/tmp/mvlan-subnets-XXXXXX";
    dir = ::mkdtemp(tmpl);
    kernel.add_device("eth1", 1500);
  }
  ~Lab() {
    driver.reset();
    pools.reset();
    store.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }
  void open() {
    db = std::make_unique<store::Database>(dir + "/mvlan.db", store::Database::Mode::ReadWrite);
    store = std::make_unique<store::NetworkStore>(*db);
    pools = std::make_unique<ipam::SqlitePoolStore>(*db, std::vector<ipam::DefaultPool>{});
    driver = std::make_unique<NetworkDriver>(*store, kernel, pools.get());
  }
  // RequestPool, and the gateway RequestAddress when Docker sends one (`gateway` not ""),
  // then the IpamData CreateNetwork carries.
  IpamData pool(const std::string& subnet, const std::string& gateway = "",
                const std::string& range = "") {
    ipam::PoolSpec spec;
    spec.address_space = "LocalDefault";
    spec.subnet = ipam::Prefix::parse(subnet);
    spec.family = spec.subnet->family();
    if (!range.empty()) spec.range = ipam::Prefix::parse(range);
    pool_ids[subnet] = pools->request_pool(spec).id;
    if (gateway.empty()) return {subnet, "", "LocalDefault"};
    ipam::AddressRequest r;
    r.address = ipam::Address::parse(gateway);
    r.gateway = true;
    pools->request_address(pool_ids[subnet], r);
    return {subnet, gateway + "/" + std::to_string(spec.subnet->length()), "LocalDefault"};
  }
  std::string grant(const std::string& subnet, const std::string& address = "") {
    ipam::AddressRequest r;
    if (!address.empty()) r.address = ipam::Address::parse(address);
    return pools->request_address(pool_ids.at(subnet), r).address.str();
  }
  // Every address granted as a gateway, in any pool.
  std::set<std::string> gateway_grants() {
    std::set<std::string> out;
    for (const auto& s : pools->status()) {
      for (const auto& a : s.allocations) {
        if (a.kind == ipam::GrantKind::Gateway) out.insert(a.address.str());
      }
    }
    return out;
  }
  NetworkBody network(std::vector<IpamData> v4, std::vector<IpamData> v6 = {},
                      std::map<std::string, std::string> generic = {}) {
    generic["parent"] = "eth1";
    NetworkBody r;
    r.network_id = kNet;
    r.generic = std::move(generic);
    r.ipv6 = !v6.empty();
    r.ipv4 = std::move(v4);
    r.ipv6_data = std::move(v6);
    return r;
  }
  JoinAnswer join(const std::string& ep, const std::string& address4,
                  const std::string& address6 = "") {
    driver->create_endpoint(mvlan::test::endpoint_request(kNet, ep, address4, address6));
    return driver->join(kNet, ep);
  }
};

std::string refusal(const std::function<void()>& fn) {
  return mvlan::test::refusal_of<Error>(fn);
}

}  // namespace

TEST_CASE("Join answers each endpoint the gateway of the subnet holding its address, IPv4 and "
          "IPv6 independently",
          "[subnets]") {
  Lab lab;
  lab.open();
  // As engine 20.10 sends it: a gateway for every subnet (two given, two the IPAM picked).
  lab.driver->create_network(
      lab.network({lab.pool("198.18.100.0/24", "198.18.100.1"),
                   lab.pool("198.18.102.0/24", "198.18.102.254")},
                  {lab.pool("2001:db8:abc2::/64", "2001:db8:abc2::1"),
                   lab.pool("2001:db8:abc4::/64", "2001:db8:abc4::254")}));

  auto a = lab.join(kEpA, "198.18.100.20/24", "2001:db8:abc4::20/64");
  CHECK(a.gateway4 == "198.18.100.1");
  CHECK(a.gateway6 == "2001:db8:abc4::254");
  auto b = lab.join(kEpB, "198.18.102.20/24", "2001:db8:abc2::20/64");
  CHECK(b.gateway4 == "198.18.102.254");
  CHECK(b.gateway6 == "2001:db8:abc2::1");
  CHECK(b.connected_routes.empty());

  SECTION("and the same after a restart, from the database alone") {
    lab.driver.reset();
    lab.open();
    CHECK(lab.driver->join(kNet, kEpB).gateway4 == "198.18.102.254");
    const auto stored = lab.store->network(kNet)->subnets;
    REQUIRE(stored.size() == 4);
    CHECK(ipam::str_or(stored[1].subnet) == "198.18.102.0/24");
    CHECK(ipam::str_or(stored[3].gateway) == "2001:db8:abc4::254");
  }
}

TEST_CASE("An endpoint in a subnet without a gateway gets no gateway for that family only",
          "[subnets]") {
  Lab lab;
  lab.open();
  // Docker's own IPAM's subnets (not mvlan's pools): mvlan can pick nothing there.
  lab.driver->create_network(lab.network(
      {{"198.18.100.0/24", "198.18.100.1/24", "LocalDefault"}, {"198.18.102.0/24", "", ""}},
      {{"2001:db8:abc2::/64", "2001:db8:abc2::1/64", ""}}));
  auto joined = lab.join(kEpB, "198.18.102.20/24", "2001:db8:abc2::20/64");
  CHECK(joined.gateway4.empty());
  CHECK(joined.gateway6 == "2001:db8:abc2::1");
  // An address in none of the subnets (Docker never sends one) gets no gateway either.
  CHECK(lab.join(kEpA, "203.0.113.5/24").gateway4.empty());
}

TEST_CASE("When the engine skipped gateway allocation, mvlan reserves one where the subnet has "
          "room: the first free of the ip-range, none in /31, /32, /127 and /128",
          "[subnets]") {
  Lab lab;
  lab.open();
  CHECK(lab.driver->gateway_skip().ipv4);
  CHECK(lab.driver->gateway_skip().ipv6);
  // As engine 28 sends it after skip: only the gateway the user gave was allocated.
  lab.driver->create_network(
      lab.network({lab.pool("198.18.100.0/24", "", "198.18.100.16/28"),
                   lab.pool("198.18.102.0/24", "198.18.102.254"), lab.pool("198.18.104.0/31"),
                   lab.pool("198.18.105.7/32")},
                  {lab.pool("2001:db8:abc2::/64"), lab.pool("2001:db8:abc4::/127"),
                   lab.pool("2001:db8:abc5::1/128")}));
  std::vector<std::string> gateways;
  const auto stored = lab.store->network(kNet);
  for (const auto& s : stored->subnets) gateways.push_back(ipam::str_or(s.gateway));
  CHECK(gateways == std::vector<std::string>{"198.18.100.16", "198.18.102.254", "", "",
                                             "2001:db8:abc2::1", "", ""});
  CHECK(lab.gateway_grants() ==
        std::set<std::string>{"198.18.100.16", "198.18.102.254", "2001:db8:abc2::1"});

  // Both addresses of the /31 and of the /127, and the one of the /32, go to containers.
  CHECK(lab.grant("198.18.104.0/31") == "198.18.104.0");
  CHECK(lab.grant("198.18.104.0/31") == "198.18.104.1");
  CHECK(lab.grant("198.18.105.7/32") == "198.18.105.7");
  CHECK(lab.grant("2001:db8:abc4::/127") == "2001:db8:abc4::");
  CHECK(lab.grant("2001:db8:abc4::/127") == "2001:db8:abc4::1");
  auto p2p = lab.join(kEpA, "198.18.104.1/31", "2001:db8:abc4::/127");
  CHECK(p2p.gateway4.empty());
  CHECK(p2p.gateway6.empty());
  CHECK(lab.join(kEpB, "198.18.100.17/24", "2001:db8:abc2::2/64").gateway4 == "198.18.100.16");

  lab.driver->delete_endpoint(kNet, kEpA);
  lab.driver->delete_endpoint(kNet, kEpB);
  lab.driver->delete_network(kNet);
  CHECK(lab.gateway_grants() == std::set<std::string>{"198.18.102.254"});  // Docker's to release
}

TEST_CASE("An internal network gets no gateway picked and answers none", "[subnets]") {
  Lab lab;
  lab.open();
  auto r = lab.network({lab.pool("198.18.100.0/24")});
  r.internal = true;
  lab.driver->create_network(r);
  CHECK(lab.gateway_grants().empty());
  CHECK(lab.join(kEpA, "198.18.100.1/24").gateway4.empty());
}

TEST_CASE("Bad subnets and gateways are refused naming the field, the value and what is valid, "
          "and change nothing",
          "[subnets]") {
  Lab lab;
  lab.open();
  const auto good = lab.pool("198.18.100.0/24");
  const auto v6 = lab.pool("2001:db8:abc2::/64");
  for (auto [v4, expect] : std::vector<std::pair<std::vector<IpamData>, std::string>>{
           {{good, {"198.18.102.0", "", ""}},
            "field IPv4Data[1].Pool \"198.18.102.0\" is not an IPv4 subnet such as 192.0.2.0/24"},
           {{{"198.18.102.1/24", "", ""}}, "IPv4Data[0].Pool \"198.18.102.1/24\" is not an IPv4"},
           {{good, {"2001:db8:abc4::/64", "", ""}}, "IPv4Data[1].Pool \"2001:db8:abc4::/64\""},
           {{good, {"198.18.102.0/24", "198.18.100.1/24", ""}},
            "field IPv4Data[1].Gateway 198.18.100.1/24 is outside its subnet 198.18.102.0/24; "
            "give an address inside it"},
           {{good, good}, "field IPv4Data[1].Pool 198.18.100.0/24 is given twice"}}) {
    INFO(expect);
    CHECK_THAT(refusal([&] { lab.driver->create_network(lab.network(v4, {v6})); }),
               Catch::Contains(expect));
  }
  CHECK_THAT(refusal([&] {
               lab.driver->create_network(
                   lab.network({good}, {{"2001:db8:abc4::/64", "2001:db8:abc2::1/64", ""}}));
             }),
             Catch::Contains("IPv6Data[0].Gateway 2001:db8:abc2::1/64 is outside its subnet"));
  // A refusal after mvlan picked gateways gives them back.
  CHECK_THAT(refusal([&] {
               lab.driver->create_network(lab.network({good}, {v6}, {{"host_access", "203.0.113.9"}}));
             }),
             Catch::Contains("outside the network's subnet 198.18.100.0/24"));
  CHECK(lab.store->networks().empty());
  CHECK(lab.gateway_grants().empty());
  CHECK(lab.kernel.calls.empty());
}

TEST_CASE("host_access may sit in any subnet, endpoints of the others get a connected route back "
          "to it and the host a route to them",
          "[subnets][host]") {
  Lab lab;
  lab.open();
  lab.driver->create_network(lab.network(
      {lab.pool("198.18.100.0/24", "198.18.100.1"), lab.pool("198.18.102.0/24", "198.18.102.1")},
      {}, {{"host_access", "198.18.102.254"}}));
  CHECK(lab.store->network(kNet)->host_pool == lab.pool_ids["198.18.102.0/24"]);
  CHECK_THAT(refusal([&] { lab.grant("198.18.102.0/24", "198.18.102.254"); }),
             Catch::Contains("already in use"));

  auto a = lab.join(kEpA, "198.18.100.20/24");
  CHECK(a.connected_routes == std::vector<std::string>{"198.18.102.254/32"});
  auto b = lab.join(kEpB, "198.18.102.20/24");
  CHECK(b.connected_routes.empty());  // the subnet's own route reaches the host
  CHECK(lab.kernel.routes[kHostLink] == std::set<std::string>{"198.18.100.20/32 src 198.18.102.254",
                                                              "198.18.102.20/32 src 198.18.102.254"});
  CHECK_THAT(refusal([&] {
               lab.driver->delete_network(kNet);
               lab.driver->create_network(lab.network(
                   {lab.pool("198.51.100.0/24"), lab.pool("203.0.113.0/24")}, {},
                   {{"host_access", "192.0.2.9"}}));
             }),
             Catch::Contains("outside the network's subnets 198.51.100.0/24, 203.0.113.0/24; give "
                             "an address inside one of them"));
}

TEST_CASE("A network stored with one gateway per family before subnets were recorded keeps "
          "working after the upgrade",
          "[subnets][migration]") {
  Lab lab;
  {
    // The database as an mvlan without subnets left it: every migration before theirs.
    SQLite::Database old(lab.dir + "/mvlan.db", SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    size_t before = 0;
    while (std::string(store::migrations().at(before)).find("network_subnets") == std::string::npos) {
      old.exec(store::migrations()[before++]);
    }
    old.exec("PRAGMA user_version=" + std::to_string(before));
    old.exec("PRAGMA application_id=" + std::to_string(store::Database::kApplicationId));
    old.exec("INSERT INTO networks (id, parent, mode, mtu, internal, ipv6, gateway4, gateway6) "
             "VALUES ('" + kNet + "', 'eth1', 'bridge', 0, 0, 1, '198.18.100.1', '2001:db8:abc2::1')");
    old.exec("INSERT INTO endpoints (id, network_id, mac, address4, address6, link) VALUES ('" +
             kEpA + "', '" + kNet + "', '02:42:c6:12:64:14', '198.18.100.20/24', "
             "'2001:db8:abc2::20/64', 'mv186048c5dbd0')");
    old.exec("INSERT INTO endpoints (id, network_id, mac, address4, address6, link) VALUES ('" +
             kEpB + "', '" + kNet + "', '02:42:c6:12:66:14', '198.18.102.20/24', '', "
             "'mv60d9877deda3')");
  }
  lab.open();
  CHECK(lab.db->schema_version() == static_cast<int>(store::migrations().size()));
  const auto subnets = lab.store->network(kNet)->subnets;
  REQUIRE(subnets.size() == 2);
  CHECK_FALSE(subnets[0].subnet);
  CHECK(ipam::str_or(subnets[0].gateway) == "198.18.100.1");

  auto a = lab.driver->join(kNet, kEpA);
  CHECK(a.gateway4 == "198.18.100.1");
  CHECK(a.gateway6 == "2001:db8:abc2::1");
  // Its second subnet was never recorded: no gateway rather than the first subnet's, which the
  // container could not reach.
  CHECK(lab.driver->join(kNet, kEpB).gateway4.empty());
  lab.driver->delete_network(kNet);
  CHECK(lab.store->networks().empty());
}

TEST_CASE("Only subnets with more than two addresses have room for a gateway", "[subnets]") {
  for (auto [subnet, room] : std::vector<std::pair<const char*, bool>>{
           {"198.18.0.0/30", true},
           {"198.18.0.0/31", false},
           {"198.18.0.0/32", false},
           {"2001:db8::/126", true},
           {"2001:db8::/127", false},
           {"2001:db8::/128", false}}) {
    INFO(subnet);
    CHECK(has_room_for_gateway(*ipam::Prefix::parse(subnet)) == room);
  }
}

// Handler logic of the NetworkDriver with a fake kernel and a temporary database.

#include <SQLiteCpp/SQLiteCpp.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <set>

#include "common/error.h"
#include "common/undo.h"
#include "store/network_store.h"
#include "ipam/sqlite_pool_store.h"
#include "plugin/mac.h"
#include "plugin/network_api.h"
#include "plugin/network_driver.h"
#include "tests/support/endpoint_request.h"
#include "tests/support/fake_kernel.h"
#include "tests/support/network_request.h"
#include "tests/support/refusal.h"

using namespace mvlan;
using namespace mvlan::plugin;
using mvlan::test::FakeKernel;
using mvlan::test::NetworkBody;

namespace {

const std::string kNet1 = "dd884eff7552ed298b061a016836dcba0cf0383a87432ce88b41be817f47685d";
const std::string kNet2 = "876d82eb95174b22a54d00fbe0c8d177975d095458fa4a656cbdca367f298f6f";
const std::string kEp1 = "186048c5dbd0dc2ae5343b39705c208bcfda9d6cb5c194954118d742d76546ad";
const std::string kEp2 = "60d9877deda382f7e23595cd12421c3b1e646cccdb34a95ce0d54f7d8361f382";

using mvlan::test::endpoint_request;

struct Fixture {
  std::string dir;
  std::unique_ptr<store::Database> db;
  std::unique_ptr<store::NetworkStore> store;
  FakeKernel kernel;
  std::unique_ptr<NetworkDriver> driver;

  Fixture() {
    char tmpl[] = "/tmp/mvlan-driver-XXXXXX";
    dir = ::mkdtemp(tmpl);
    open();
    kernel.add_device("eth1", 1500);
    kernel.add_device("eth2", 9000);
  }
  ~Fixture() {
    driver.reset();
    store.reset();
    db.reset();
    std::filesystem::remove_all(dir);
  }
  // A restart: a new driver on the same database and the same kernel.
  void open() {
    driver.reset();
    store.reset();
    db.reset();
    db = std::make_unique<store::Database>(dir + "/mvlan.db", store::Database::Mode::ReadWrite);
    store = std::make_unique<store::NetworkStore>(*db);
    driver = std::make_unique<NetworkDriver>(*store, kernel);
  }
  NetworkBody net(const std::string& id, std::map<std::string, std::string> generic) {
    NetworkBody r;
    r.network_id = id;
    r.generic = std::move(generic);
    r.ipv4 = {{"192.0.2.0/24", "192.0.2.1/24"}};
    return r;
  }
  CreateEndpointRequest ep(const std::string& net_id, const std::string& id,
                           const std::string& mac = "") {
    return endpoint_request(net_id, id, "192.0.2.10/24", "", mac);
  }
};

std::string refusal(const std::function<void()>& fn) {
  return mvlan::test::refusal_of<Error>(fn);
}

}  // namespace

TEST_CASE("an unknown option is refused with the valid ones, and a typo gets a suggestion",
          "[driver]") {
  Fixture f;
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet1, {{"parnet", "eth1"}})); }),
             Catch::Contains("\"parnet\"") && Catch::Contains("did you mean parent?") &&
                 Catch::Contains("parent, macvlan_mode, mtu"));
  CHECK(f.store->networks().empty());
}

TEST_CASE("parent names are checked before anything is touched", "[driver]") {
  Fixture f;
  for (auto [parent, expect] :
       std::vector<std::pair<std::string, std::string>>{
           {"averyveryverylongname", "at most 15"},
           {"eth/1", "letters, digits"},
           {"eth 1", "letters, digits"},
           {"..", "not a link name"},
           {"lo", "loopback"},
           {"eth1.0", "outside 1-4094"},
           {"eth1.4095", "outside 1-4094"},
           {"eth1.abc", "number from 1 to 4094"},
           {"nosuch0", "no such link"},
           {"nosuch0.100", "base link nosuch0 does not exist"}}) {
    INFO(parent);
    CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet1, {{"parent", parent}})); }),
               Catch::Contains(expect));
  }
  CHECK(f.kernel.calls.empty());
  CHECK(f.store->networks().empty());
}

TEST_CASE("macvlan_mode accepts the four kernel modes and nothing else", "[driver]") {
  Fixture f;
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}, {"macvlan_mode", "bridged"}})); }),
             Catch::Contains("bridge (default), private, vepa and passthru"));
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}, {"macvlan_mode", "vepa"}}));
  CHECK(f.store->network(kNet1)->mode == MacvlanMode::Vepa);
}

TEST_CASE("modes and parent kinds are stored as the text every version wrote", "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1.100"}, {"macvlan_mode", "passthru"}}));
  f.driver->create_network(f.net(kNet2, {{"macvlan_mode", "private"}}));  // a dummy parent
  const auto rows = f.db->read([&] {
    auto& s = f.db->statement(
        "SELECT n.mode || ' ' || p.kind FROM networks n JOIN owned_parents p ON p.name = n.parent");
    std::set<std::string> out;
    while (s.executeStep()) out.insert(s.getColumn(0).getString());
    return out;
  });
  CHECK(rows == std::set<std::string>{"passthru vlan", "private dummy"});
}

TEST_CASE("mtu must lie between 68 and the parent's MTU, naming both", "[driver]") {
  Fixture f;
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}, {"mtu", "9000"}})); }),
             Catch::Contains("9000") && Catch::Contains("MTU 1500 of parent eth1"));
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}, {"mtu", "67"}})); }),
             Catch::Contains("68"));
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}, {"mtu", "-1"}})); }),
             Catch::Contains("whole number"));
  f.driver->create_network(f.net(kNet1, {{"parent", "eth2"}, {"mtu", "9000"}}));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  auto joined = f.driver->join(kNet1, kEp1);
  CHECK(f.kernel.link(joined.link).mtu == 9000);
}

TEST_CASE("a missing NAME.VID parent is created as a VLAN and removed with the last network",
          "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1.100"}}));
  REQUIRE(f.kernel.has("eth1.100"));
  CHECK(f.kernel.link("eth1.100").vlan_id == 100);
  f.driver->create_network(f.net(kNet2, {{"parent", "eth1.100"}}));  // shares it
  SECTION("creator removed first") {
    f.driver->delete_network(kNet1);
    CHECK(f.kernel.has("eth1.100"));
    f.driver->delete_network(kNet2);
    CHECK_FALSE(f.kernel.has("eth1.100"));
  }
  SECTION("creator removed last") {
    f.driver->delete_network(kNet2);
    CHECK(f.kernel.has("eth1.100"));
    f.driver->delete_network(kNet1);
    CHECK_FALSE(f.kernel.has("eth1.100"));
  }
  CHECK(f.store->owned_parents().empty());
}

TEST_CASE("a VLAN parent the user made is never deleted", "[driver]") {
  Fixture f;
  f.kernel.add_device("eth1.200");
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1.200"}}));
  f.driver->delete_network(kNet1);
  CHECK(f.kernel.has("eth1.200"));
}

TEST_CASE("without 802.1Q support the VLAN error reaches the user and nothing is stored",
          "[driver]") {
  Fixture f;
  f.kernel.has_8021q = false;
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet1, {{"parent", "eth1.100"}})); }),
             Catch::Contains("8021q"));
  CHECK(f.store->networks().empty());
  CHECK(f.store->owned_parents().empty());
}

TEST_CASE("no parent makes a dummy dm-<id> parent and an internal network without gateway",
          "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {}));
  const std::string dummy = "dm-" + kNet1.substr(0, 12);
  CHECK(dummy.size() == 15);
  REQUIRE(f.kernel.has(dummy));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  auto joined = f.driver->join(kNet1, kEp1);
  CHECK(joined.gateway4.empty());
  f.driver->delete_network(kNet1);
  CHECK_FALSE(f.kernel.has(dummy));
}

TEST_CASE("passthru refuses to share its parent, in either order, naming the other network",
          "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}}));
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet2, {{"parent", "eth1"}, {"macvlan_mode", "passthru"}})); }),
             Catch::Contains("passthru") && Catch::Contains(kNet1.substr(0, 12)));
  f.driver->delete_network(kNet1);
  f.driver->create_network(f.net(kNet2, {{"parent", "eth1"}, {"macvlan_mode", "passthru"}}));
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}})); }),
             Catch::Contains("held by network " + kNet2.substr(0, 12)));
}

TEST_CASE("several non-passthru networks share one parent", "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}}));
  f.driver->create_network(f.net(kNet2, {{"parent", "eth1"}, {"macvlan_mode", "private"}}));
  CHECK(f.store->networks_on_parent("eth1").size() == 2);
}

TEST_CASE("a MAC given by Docker is used and not echoed, otherwise one is generated",
          "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}}));
  CHECK_FALSE(f.driver->create_endpoint(f.ep(kNet1, kEp1, "02:42:c0:00:02:32")));
  CHECK(format_mac(f.store->endpoint(kEp1)->mac) == "02:42:c0:00:02:32");
  auto generated = f.driver->create_endpoint(f.ep(kNet1, kEp2));
  REQUIRE(generated);
  auto mac = *parse_mac(*generated);
  CHECK_FALSE(is_multicast(mac));
  CHECK((mac[0] & 0x02) == 0x02);  // locally administered
}

TEST_CASE("multicast, all-zero and malformed MACs are refused", "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}}));
  // The MAC is parsed where the request arrives: through the NetworkDriver's routes.
  Router router;
  add_network_routes(router, *f.driver);
  const auto create = [&](const std::string& mac) {
    const json body{{"NetworkID", kNet1},
                    {"EndpointID", kEp1},
                    {"Interface", {{"Address", "192.0.2.10/24"}, {"MacAddress", mac}}}};
    return router.dispatch("/NetworkDriver.CreateEndpoint", body.dump()).body;
  };
  CHECK_THAT(create("01:00:5e:00:00:01"), Catch::Contains("multicast"));
  CHECK_THAT(create("00:00:00:00:00:00"), Catch::Contains("all zeros"));
  CHECK_THAT(create("02:42:zz:00:00:01"), Catch::Contains("not a MAC address"));
  CHECK_FALSE(f.store->endpoint(kEp1));
}

TEST_CASE("Join makes a macvlan link with the network's mode and the endpoint's MAC and answers "
          "the gateway",
          "[driver]") {
  Fixture f;
  auto r = f.net(kNet1, {{"parent", "eth1"}, {"macvlan_mode", "private"}});
  r.ipv6 = true;
  r.ipv6_data = {{"2001:db8:1::/64", "2001:db8:1::1/64"}};
  f.driver->create_network(r);
  f.driver->create_endpoint(
      endpoint_request(kNet1, kEp1, "192.0.2.10/24", "2001:db8:1::10/64",
                       "02:42:c0:00:02:0a"));
  auto joined = f.driver->join(kNet1, kEp1);
  CHECK(joined.link == "mv" + kEp1.substr(0, 12));
  CHECK(joined.link.size() <= 15);
  CHECK(joined.gateway4 == "192.0.2.1");
  CHECK(joined.gateway6 == "2001:db8:1::1");
  const auto& link = f.kernel.link(joined.link);
  CHECK(link.macvlan_mode == kernel::MacvlanMode::Private);
  CHECK(format_mac(link.mac) == "02:42:c0:00:02:0a");
  CHECK(link.mtu == 1500);  // inherited
}

TEST_CASE("an internal network answers Join without gateways", "[driver]") {
  Fixture f;
  auto r = f.net(kNet1, {{"parent", "eth1"}});
  r.internal = true;
  f.driver->create_network(r);
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  CHECK(f.driver->join(kNet1, kEp1).gateway4.empty());
}

TEST_CASE("Leave and DeleteEndpoint delete the link and are idempotent", "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}}));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  auto link = f.driver->join(kNet1, kEp1).link;
  f.driver->leave(kNet1, kEp1);
  CHECK_FALSE(f.kernel.has(link));
  CHECK_NOTHROW(f.driver->leave(kNet1, kEp1));
  f.driver->delete_endpoint(kNet1, kEp1);
  CHECK_NOTHROW(f.driver->delete_endpoint(kNet1, kEp1));
  CHECK_FALSE(f.store->endpoint(kEp1));
}

TEST_CASE("an endpoint still holding a released address is dropped with its link, others stay",
          "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}}));
  f.driver->create_network(f.net(kNet2, {{"parent", "eth2"}}));
  // Docker's spellings are kept apart from the canonical one the release names.
  f.driver->create_endpoint(
      endpoint_request(kNet1, kEp1, "192.0.2.10/24", "2001:DB8:0:0::a/64", ""));
  f.driver->create_endpoint(endpoint_request(kNet2, kEp2, "192.0.2.100/24", "2001:db8::a0/64", ""));
  const auto link = f.driver->join(kNet1, kEp1).link;  // a link to clean, if one were there
  CHECK(ipam::str_or(f.store->endpoint(kEp1)->address6) == "2001:db8::a/64");

  // Neither a prefix of the address (192.0.2.1) nor one it is a prefix of (.100) matches .10.
  CHECK(f.driver->drop_endpoints_holding(*ipam::Address::parse("192.0.2.1")) == 0);
  CHECK(f.driver->drop_endpoints_holding(*ipam::Address::parse("2001:db8::")) == 0);
  CHECK(f.driver->drop_endpoints_holding(*ipam::Address::parse("2001:db8::a")) == 1);
  CHECK_FALSE(f.store->endpoint(kEp1));
  CHECK_FALSE(f.kernel.has(link));
  CHECK(f.driver->drop_endpoints_holding(*ipam::Address::parse("192.0.2.10")) == 0);
  REQUIRE(f.store->endpoint(kEp2));
  CHECK_NOTHROW(f.driver->delete_endpoint(kNet1, kEp1));  // Docker's DeleteEndpoint, if it comes
}

TEST_CASE("after a restart every call works from the database alone", "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1.100"}}));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  f.open();  // plugin restart: no CreateNetwork is ever sent again
  auto joined = f.driver->join(kNet1, kEp1);
  CHECK(joined.gateway4 == "192.0.2.1");
  f.driver->delete_endpoint(kNet1, kEp1);
  f.driver->delete_network(kNet1);
  CHECK_FALSE(f.kernel.has("eth1.100"));
}

TEST_CASE("reconciliation re-creates a VLAN parent lost in a reboot and deletes leftover links",
          "[driver]") {
  Fixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1.100"}}));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  auto link = f.driver->join(kNet1, kEp1).link;  // Docker has not moved it (yet)
  f.kernel.delete_link("eth1.100");             // the reboot lost the VLAN (and its children)
  f.kernel.add_device("mvuserlink", 1500);       // not ours: kept
  f.kernel.create_macvlan("eth1", "mv0123456789ab", kernel::MacvlanMode::Bridge,
                          {0x02, 0, 0, 0, 0, 1}, 0);  // of no endpoint: deleted
  f.open();
  f.driver->reconcile();
  CHECK(f.kernel.has("eth1.100"));
  CHECK_FALSE(f.kernel.has("mv0123456789ab"));
  CHECK(f.kernel.has("mvuserlink"));
  CHECK(f.kernel.has(link));  // its endpoint exists: left for Docker until the sweep
  CHECK(f.driver->has_unclaimed_links());
  f.driver->sweep_unclaimed_links();
  CHECK_FALSE(f.kernel.has(link));
  CHECK_FALSE(f.driver->has_unclaimed_links());
}

TEST_CASE("a network whose user-made parent vanished fails Join with a clear error", "[driver]") {
  Fixture f;
  f.kernel.add_device("usr0");
  f.driver->create_network(f.net(kNet1, {{"parent", "usr0"}}));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  f.kernel.delete_link("usr0");
  CHECK_THAT(refusal([&] { f.driver->join(kNet1, kEp1); }),
             Catch::Contains("parent link usr0") && Catch::Contains("does not exist"));
  CHECK(f.store->network(kNet1));
}

TEST_CASE("unknown networks and endpoints, and ids that are not Docker ids, are refused",
          "[driver]") {
  Fixture f;
  CHECK_THAT(refusal([&] { f.driver->create_endpoint(f.ep(kNet1, kEp1)); }),
             Catch::Contains("unknown network"));
  CHECK_THAT(refusal([&] { f.driver->join(kNet1, kEp1); }), Catch::Contains("unknown endpoint"));
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net("../etc", {{"parent", "eth1"}})); }),
             Catch::Contains("not a Docker id"));
  CHECK_NOTHROW(f.driver->delete_network(kNet2));  // idempotent
}

TEST_CASE("engines that ask are told to allocate no gateway (mvlan picks them where there is "
          "room), and none for options CreateNetwork will refuse",
          "[driver]") {
  Fixture f;
  Router router;
  add_network_routes(router, *f.driver);
  auto ask = [&](const json& generic, bool internal) {
    const json body{{"Options", {{"com.docker.network.generic", generic},
                                 {"com.docker.network.internal", internal}}}};
    const Reply reply = router.dispatch("/NetworkDriver.GwAllocCheck", body.dump());
    INFO(reply.body);
    CHECK(reply.status == 200);
    return json::parse(reply.body);
  };
  const json skip_both{{"SkipIPv4", true}, {"SkipIPv6", true}};
  CHECK(ask({{"parent", "eth1"}}, false) == skip_both);
  CHECK(ask({{"parent", "eth1"}}, true) == skip_both);
  CHECK(ask(json::object(), false) == skip_both);
  // GwAllocCheck names no network: the refusal waits for CreateNetwork, which does.
  for (const json& typo :
       {json{{"parnet", "eth1"}}, json{{"parent", "nosuch0"}}, json{{"parent", "eth1.4095"}},
        json{{"parent", "eth1/x"}},
        json{{"parent", "eth1"}, {"host_access", "auto"}, {"macvlan_mode", "private"}}}) {
    CHECK(ask(typo, false) == skip_both);
  }
  CHECK(f.store->networks().empty());
  CHECK(f.kernel.calls.empty());
}

TEST_CASE("a refused CreateNetwork names the network, as a swarm task's error shows it when the "
          "options come from a --config-only network",
          "[driver]") {
  Fixture f;
  // A swarm network's id (what `docker network ls` shows on every node), not a local one's.
  const std::string swarm_net = "vht8oeay16cdysswd6tdocr8h";
  CHECK(refusal([&] { f.driver->create_network(f.net(swarm_net, {{"parnet", "eth1"}})); }) ==
        "network vht8oeay16cd: unknown option \"parnet\" (did you mean parent?); mvlan's "
        "options are parent, macvlan_mode, mtu, host_access");
  CHECK_THAT(refusal([&] { f.driver->create_network(f.net(kNet1, {{"parent", "nosuch0"}})); }),
             Catch::StartsWith("network dd884eff7552: option parent=nosuch0: no such link"));
  CHECK_THAT(refusal([&] {
               f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}, {"mtu", "9000"}}));
             }),
             Catch::StartsWith("network dd884eff7552: option mtu=9000 is above the MTU 1500"));
  CHECK(f.store->networks().empty());
  CHECK(f.kernel.calls.empty());
}

// ---- host access (-o host_access) ----

namespace {

// The driver with mvlan's own IPAM on the same database, and the pool Docker would have
// requested (with its gateway) before CreateNetwork.
struct HostFixture : Fixture {
  std::unique_ptr<ipam::SqlitePoolStore> pools;
  std::string pool_id;

  HostFixture() {
    reopen();
    ipam::PoolSpec spec;
    spec.address_space = "LocalDefault";
    spec.subnet = ipam::Prefix::parse("192.0.2.0/24");
    pool_id = pools->request_pool(spec).id;
    ipam::AddressRequest gateway;
    gateway.address = ipam::Address::parse("192.0.2.1");
    gateway.gateway = true;
    pools->request_address(pool_id, gateway);
  }
  ~HostFixture() {
    driver.reset();
    pools.reset();
  }
  void reopen() {
    pools.reset();
    open();
    pools = std::make_unique<ipam::SqlitePoolStore>(*db, std::vector<ipam::DefaultPool>{});
    driver = std::make_unique<NetworkDriver>(*store, kernel, pools.get());
  }
  NetworkBody host_net(const std::string& id, const std::string& host_access,
                       std::map<std::string, std::string> more = {}) {
    more["parent"] = "eth1";
    more["host_access"] = host_access;
    auto r = net(id, std::move(more));
    r.ipv4.front().address_space = "LocalDefault";
    return r;
  }
  std::string grant(const std::string& address) {
    ipam::AddressRequest r;
    if (!address.empty()) r.address = ipam::Address::parse(address);
    return pools->request_address(pool_id, r).address.str();
  }
  std::set<std::string> routes(const std::string& link) {
    return kernel.routes.count(link) ? kernel.routes.at(link) : std::set<std::string>{};
  }
};

const std::string kHost1 = "mhdd884eff7552";  // host_link_name(kNet1)

}  // namespace

TEST_CASE("host_access makes an up bridge macvlan link mh<id> on the parent with the address as "
          "a /32, and no container can be granted that address",
          "[driver][host]") {
  HostFixture f;
  f.driver->create_network(f.host_net(kNet1, "192.0.2.254"));
  REQUIRE(host_link_name(kNet1) == kHost1);
  REQUIRE(f.kernel.has(kHost1));
  const auto& link = f.kernel.link(kHost1);
  CHECK(link.kind == "macvlan");
  CHECK(link.macvlan_mode == kernel::MacvlanMode::Bridge);
  CHECK(link.parent_index == f.kernel.link("eth1").index);
  CHECK(link.up);
  CHECK(f.kernel.addresses[kHost1] == std::set<std::string>{"192.0.2.254/32"});
  CHECK(ipam::str_or(f.store->network(kNet1)->host_access) == "192.0.2.254");

  CHECK_THAT(refusal([&] { f.grant("192.0.2.254"); }), Catch::Contains("already in use"));
  std::set<std::string> granted;  // every dynamic address, until the pool runs dry
  try {
    for (int i = 0; i < 300; ++i) granted.insert(f.grant(""));
  } catch (const Error& e) {
    CHECK(e.kind == ErrorKind::Exhausted);
  }
  CHECK(granted.size() == 252);  // 254 usable, less the gateway and the host's
  CHECK_FALSE(granted.count("192.0.2.254"));
}

TEST_CASE("host_access=auto takes the host's address from the pool", "[driver][host]") {
  HostFixture f;
  f.driver->create_network(f.host_net(kNet1, "auto"));
  const auto host = ipam::str_or(f.store->network(kNet1)->host_access);
  CHECK(host == "192.0.2.2");
  CHECK(f.kernel.addresses[kHost1] == std::set<std::string>{"192.0.2.2/32"});
  CHECK(f.grant("") != host);
}

TEST_CASE("Join adds a host route to the container through the host link, Leave and "
          "DeleteEndpoint remove it",
          "[driver][host]") {
  HostFixture f;
  f.driver->create_network(f.host_net(kNet1, "192.0.2.254"));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  f.driver->join(kNet1, kEp1);
  CHECK(f.routes(kHost1) == std::set<std::string>{"192.0.2.10/32 src 192.0.2.254"});
  f.driver->leave(kNet1, kEp1);
  CHECK(f.routes(kHost1).empty());
  f.driver->join(kNet1, kEp1);
  f.driver->delete_endpoint(kNet1, kEp1);
  CHECK(f.routes(kHost1).empty());
}

TEST_CASE("a network without host_access gets no host link and no routes", "[driver][host]") {
  HostFixture f;
  f.driver->create_network(f.net(kNet1, {{"parent", "eth1"}}));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  f.driver->join(kNet1, kEp1);
  CHECK_FALSE(f.kernel.has(kHost1));
  CHECK(f.kernel.routes.empty());
}

TEST_CASE("host_access is refused for passthru, private and internal networks, outside the "
          "subnet, on a taken address and without mvlan's IPAM, leaving nothing behind",
          "[driver][host]") {
  HostFixture f;
  CHECK_THAT(refusal([&] {
               f.driver->create_network(f.host_net(kNet1, "192.0.2.254", {{"macvlan_mode", "passthru"}}));
             }),
             Catch::Contains("passthru") && Catch::Contains("host_access"));
  CHECK_THAT(refusal([&] {
               f.driver->create_network(f.host_net(kNet1, "192.0.2.254", {{"macvlan_mode", "private"}}));
             }),
             Catch::Contains("private") && Catch::Contains("host_access"));
  auto internal = f.host_net(kNet1, "192.0.2.254");
  internal.internal = true;
  CHECK_THAT(refusal([&] { f.driver->create_network(internal); }), Catch::Contains("internal"));
  auto parentless = f.host_net(kNet1, "192.0.2.254");
  parentless.generic.erase("parent");
  CHECK_THAT(refusal([&] { f.driver->create_network(parentless); }), Catch::Contains("internal"));
  CHECK_THAT(refusal([&] { f.driver->create_network(f.host_net(kNet1, "198.51.100.7")); }),
             Catch::Contains("outside the network's subnet 192.0.2.0/24"));
  CHECK_THAT(refusal([&] { f.driver->create_network(f.host_net(kNet1, "192.0.2.1")); }),
             Catch::Contains("host_access=192.0.2.1") && Catch::Contains("gateway"));
  CHECK_THAT(refusal([&] { f.driver->create_network(f.host_net(kNet1, "192.0.2.1/24")); }),
             Catch::Contains("without a prefix length"));
  auto other_ipam = f.host_net(kNet1, "192.0.2.254");
  other_ipam.ipv4.front().address_space = "SomeOtherSpace";
  CHECK_THAT(refusal([&] { f.driver->create_network(other_ipam); }),
             Catch::Contains("--ipam-driver mvlan"));
  CHECK_FALSE(f.store->network(kNet1));
  CHECK_FALSE(f.kernel.has(kHost1));
  CHECK(f.grant("192.0.2.254") == "192.0.2.254");  // nothing was reserved

  Fixture plain;  // a driver that has no IPAM beside it
  auto r = plain.net(kNet1, {{"parent", "eth1"}, {"host_access", "auto"}});
  CHECK_THAT(refusal([&] { plain.driver->create_network(r); }),
             Catch::Contains("--ipam-driver mvlan"));
}

TEST_CASE("a host link the kernel refuses leaves no network, no parent and no reservation",
          "[driver][host]") {
  HostFixture f;
  f.kernel.add_device(kHost1);  // the name is taken
  CHECK_THAT(refusal([&] { f.driver->create_network(f.host_net(kNet1, "192.0.2.254")); }),
             Catch::Contains("already exists"));
  CHECK_FALSE(f.store->network(kNet1));
  CHECK(f.grant("192.0.2.254") == "192.0.2.254");
}

TEST_CASE("removing the network deletes the host link and frees its address", "[driver][host]") {
  HostFixture f;
  f.driver->create_network(f.host_net(kNet1, "192.0.2.254"));
  f.driver->delete_network(kNet1);
  CHECK_FALSE(f.kernel.has(kHost1));
  CHECK(f.grant("192.0.2.254") == "192.0.2.254");
}

TEST_CASE("reconciliation re-creates a lost host link with its address and routes, and deletes "
          "the host link of a network that is gone",
          "[driver][host]") {
  HostFixture f;
  f.driver->create_network(f.host_net(kNet1, "192.0.2.254"));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  f.driver->join(kNet1, kEp1);
  f.kernel.delete_link(kHost1);  // a reboot, or someone behind mvlan's back
  f.kernel.create_macvlan("eth1", "mh876d82eb9517", kernel::MacvlanMode::Bridge, {}, 0);
  f.reopen();
  f.driver->reconcile();
  REQUIRE(f.kernel.has(kHost1));
  CHECK(f.kernel.link(kHost1).up);
  CHECK(f.kernel.addresses[kHost1] == std::set<std::string>{"192.0.2.254/32"});
  CHECK(f.routes(kHost1) == std::set<std::string>{"192.0.2.10/32 src 192.0.2.254"});
  CHECK_FALSE(f.kernel.has("mh876d82eb9517"));
  f.driver->reconcile();  // again: nothing changes, nothing fails
  CHECK(f.kernel.addresses[kHost1].size() == 1);
}

TEST_CASE("a host link deleted while mvlan runs comes back at the next Join, with every route",
          "[driver][host]") {
  HostFixture f;
  f.driver->create_network(f.host_net(kNet1, "192.0.2.254"));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  f.driver->join(kNet1, kEp1);
  f.kernel.delete_link(kHost1);
  f.driver->create_endpoint(endpoint_request(kNet1, kEp2, "192.0.2.11/24", "", ""));
  f.driver->join(kNet1, kEp2);
  CHECK(f.routes(kHost1) == std::set<std::string>{"192.0.2.10/32 src 192.0.2.254",
                                                  "192.0.2.11/32 src 192.0.2.254"});
}

TEST_CASE("a reservation lost from the IPAM is taken again at start", "[driver][host]") {
  HostFixture f;
  f.driver->create_network(f.host_net(kNet1, "192.0.2.254"));
  f.pools->release_address(f.pool_id, *ipam::Address::parse("192.0.2.254"));
  f.reopen();
  f.driver->reconcile();
  CHECK_THAT(refusal([&] { f.grant("192.0.2.254"); }), Catch::Contains("already in use"));
}

TEST_CASE("a stored host address that is no address is refused naming the network and the text, "
          "and the driver keeps serving the other networks",
          "[driver][host]") {
  HostFixture f;
  f.driver->create_network(f.host_net(kNet1, "192.0.2.254"));
  f.driver->create_endpoint(f.ep(kNet1, kEp1));
  {
    // A database edited by hand, or written by something that is not mvlan.
    SQLite::Database raw(f.dir + "/mvlan.db", SQLite::OPEN_READWRITE);
    raw.exec("UPDATE networks SET host_access = '192.0.2.x'");
  }
  f.reopen();
  CHECK_THAT(refusal([&] { f.driver->join(kNet1, kEp1); }),
             Catch::Contains("networks row " + kNet1 + " has host_access '192.0.2.x'"));
  f.driver->create_network(f.net(kNet2, {{"parent", "eth2"}}));
  f.driver->create_endpoint(f.ep(kNet2, kEp2));
  CHECK_FALSE(f.driver->join(kNet2, kEp2).link.empty());
}

TEST_CASE("an undo takes back its steps newest first unless committed, past a failing step",
          "[driver]") {
  std::vector<int> undone;
  {
    Undo undo;
    undo.add([&] { undone.push_back(1); });
    undo.add([] { throw std::runtime_error("cleanup failed"); });
    undo.add([&] { undone.push_back(3); });
  }
  CHECK(undone == std::vector<int>{3, 1});
  undone.clear();
  {
    Undo undo;
    undo.add([&] { undone.push_back(1); });
    undo.commit();
  }
  CHECK(undone.empty());
}

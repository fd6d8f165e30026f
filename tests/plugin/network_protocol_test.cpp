// The NetworkDriver over the wire, against the real binary and the real kernel: each test case
// enters a fresh network namespace (the daemon inherits it), so links are seen appearing and
// disappearing without touching the host.

#include <sched.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <map>
#include <tuple>
#include <system_error>
#include <thread>

#include "common/mac.h"
#include "netlink/libnl_kernel.h"
#include "tests/support/netlink_probe.h"
#include "tests/support/daemon.h"

using namespace mvlan;
using mvlan::test::Daemon;
using mvlan::test::json;

namespace {

const std::string kNet = "dd884eff7552ed298b061a016836dcba0cf0383a87432ce88b41be817f47685d";
const std::string kEp = "60d9877deda382f7e23595cd12421c3b1e646cccdb34a95ce0d54f7d8361f382";
const std::string kEp2 = "186048c5dbd0dc2ae5343b39705c208bcfda9d6cb5c194954118d742d76546ad";

struct Lab {
  Lab() {
    if (::unshare(CLONE_NEWNET) != 0) throw std::system_error(errno, std::generic_category(), "unshare");
    nl = std::make_unique<kernel::Netlink>();
    test::create_veth_pair("w1", "w1p");
    nl->set_up("w1");
    nl->set_up("w1p");
    daemon.start();
  }
  std::unique_ptr<kernel::Netlink> nl;
  Daemon daemon;

  json call(const std::string& path, const json& body, int expect_status = 200) {
    auto a = daemon.post(path, body);
    INFO(path << " -> " << a.status << " " << a.body);
    REQUIRE(a.status == expect_status);
    return a.parsed();
  }
  std::string pool(const char* subnet, const char* range = "") {
    return call("/IpamDriver.RequestPool",
                {{"AddressSpace", "LocalDefault"}, {"Pool", subnet}, {"SubPool", range},
                 {"Options", json::object()}, {"V6", false}})["PoolID"];
  }
  json create_network(const std::string& id, const json& generic, int expect = 200) {
    return call("/NetworkDriver.CreateNetwork",
                {{"NetworkID", id},
                 {"Options", {{"com.docker.network.enable_ipv6", false},
                              {"com.docker.network.generic", generic}}},
                 {"IPv4Data", json::array({{{"AddressSpace", "LocalDefault"},
                                            {"Gateway", "198.51.100.1/24"},
                                            {"Pool", "198.51.100.0/24"}}})},
                 {"IPv6Data", json::array()}},
                expect);
  }
  json ids(const std::string& ep) const { return {{"NetworkID", kNet}, {"EndpointID", ep}}; }
};

}  // namespace

TEST_CASE("docker run's sequence makes a macvlan link on the parent and docker stop's removes it",
          "[netns]") {
  Lab lab;
  const std::string pool_id = lab.pool("198.51.100.0/24", "198.51.100.64/26");
  lab.call("/IpamDriver.RequestAddress", {{"PoolID", pool_id}, {"Address", "198.51.100.1"},
                                          {"Options", {{"RequestAddressType", "com.docker.network.gateway"}}}});
  lab.create_network(kNet, {{"parent", "w1"}, {"macvlan_mode", "bridge"}});

  auto granted = lab.call("/IpamDriver.RequestAddress",
                          {{"PoolID", pool_id}, {"Address", ""},
                           {"Options", {{"com.docker.network.endpoint.macaddress", "02:42:b6:de:6a:26"}}}});
  CHECK(granted["Address"] == "198.51.100.64/24");
  auto created = lab.call("/NetworkDriver.CreateEndpoint",
                          {{"NetworkID", kNet}, {"EndpointID", kEp},
                           {"Interface", {{"Address", "198.51.100.64/24"}, {"AddressIPv6", ""},
                                          {"MacAddress", "02:42:b6:de:6a:26"}}},
                           {"Options", json::object()}});
  CHECK(created == json::object());  // Docker's MAC is never echoed
  // mvlan status names the endpoint that holds each container address (joined by address).
  int code = -1;
  const std::string status =
      lab.daemon.run_cli({"status", "--state-dir", lab.daemon.state_dir(), "--json"}, &code);
  INFO(status);
  REQUIRE(code == 0);
  const json doc = json::parse(status);
  std::map<std::string, json> by_address;
  for (const auto& p : doc["Pools"]) {
    for (const auto& a : p["Allocations"]) by_address[a["Address"]] = a;
  }
  CHECK(by_address["198.51.100.64"]["EndpointID"] == kEp);
  CHECK_FALSE(by_address["198.51.100.1"].contains("EndpointID"));  // the gateway is no endpoint's
  auto joined = lab.call("/NetworkDriver.Join", {{"NetworkID", kNet}, {"EndpointID", kEp},
                                                  {"SandboxKey", "/var/run/docker/netns/x"},
                                                  {"Options", json::object()}});
  const std::string link = joined["InterfaceName"]["SrcName"];
  CHECK(joined["InterfaceName"]["DstPrefix"] == "eth");
  CHECK(joined["Gateway"] == "198.51.100.1");
  CHECK(joined["DisableGatewayService"] == true);
  auto made = lab.nl->find_link(link);
  REQUIRE(made);
  CHECK(made->kind == "macvlan");
  CHECK(made->parent_index == lab.nl->find_link("w1")->index);
  CHECK(made->macvlan_mode == kernel::MacvlanMode::Bridge);
  lab.call("/NetworkDriver.ProgramExternalConnectivity", lab.ids(kEp));
  CHECK(lab.call("/NetworkDriver.EndpointOperInfo", lab.ids(kEp)) == json{{"Value", json::object()}});

  lab.call("/NetworkDriver.RevokeExternalConnectivity", lab.ids(kEp));
  lab.call("/NetworkDriver.Leave", lab.ids(kEp));
  CHECK_FALSE(lab.nl->find_link(link));
  lab.call("/NetworkDriver.DeleteEndpoint", lab.ids(kEp));
  lab.call("/IpamDriver.ReleaseAddress", {{"PoolID", pool_id}, {"Address", "198.51.100.64"}});
  lab.call("/IpamDriver.ReleasePool", {{"PoolID", pool_id}});
  lab.call("/NetworkDriver.DeleteNetwork", {{"NetworkID", kNet}});
  CHECK(lab.nl->find_link("w1"));  // the user's parent stays
}

TEST_CASE("an endpoint without a MAC gets a generated one, and the link carries it", "[netns]") {
  Lab lab;
  lab.create_network(kNet, {{"parent", "w1"}});
  auto created = lab.call("/NetworkDriver.CreateEndpoint",
                          {{"NetworkID", kNet}, {"EndpointID", kEp},
                           {"Interface", {{"Address", "198.51.100.9/24"}, {"MacAddress", ""}}}});
  const std::string mac = created["Interface"]["MacAddress"];
  auto joined = lab.call("/NetworkDriver.Join", lab.ids(kEp));
  auto link = lab.nl->find_link(joined["InterfaceName"]["SrcName"]);
  REQUIRE(link);
  CHECK(mac == format_mac(link->mac));
}

TEST_CASE("a VLAN parent on this host kernel fails with the 8021q message and stores nothing",
          "[netns][hostkernel]") {
  Lab lab;
  auto refused = lab.create_network(kNet, {{"parent", "w1.100"}}, 500);
  CHECK_THAT(refused["Err"].get<std::string>(), Catch::Contains("8021q") && Catch::Contains("modprobe"));
  // Nothing was stored: an endpoint on it is refused as unknown.
  auto a = lab.daemon.post("/NetworkDriver.CreateEndpoint",
                           json{{"NetworkID", kNet}, {"EndpointID", kEp}, {"Interface", json::object()}});
  CHECK(a.status == 404);
}

TEST_CASE("a second macvlan on a passthru network's parent fails with a clear error", "[netns]") {
  Lab lab;
  lab.create_network(kNet, {{"parent", "w1"}, {"macvlan_mode", "passthru"}});
  for (const auto& ep : {kEp, kEp2}) {
    lab.call("/NetworkDriver.CreateEndpoint",
             {{"NetworkID", kNet}, {"EndpointID", ep}, {"Interface", json::object()}});
  }
  lab.call("/NetworkDriver.Join", lab.ids(kEp));
  auto second = lab.daemon.post("/NetworkDriver.Join", lab.ids(kEp2));
  CHECK(second.status == 500);
  CHECK_THAT(second.parsed()["Err"].get<std::string>(), Catch::Contains("passthru"));
}

TEST_CASE("at restart a Join's link is left for Docker to take into its container, deleted when "
          "none did by the end of MVLAN_JOIN_GRACE, and a link of no endpoint is deleted at once",
          "[netns]") {
  Lab lab;
  lab.create_network(kNet, {{"parent", "w1"}});
  std::map<std::string, std::string> link;
  for (const auto& ep : {kEp, kEp2}) {
    lab.call("/NetworkDriver.CreateEndpoint",
             {{"NetworkID", kNet}, {"EndpointID", ep}, {"Interface", json::object()}});
    link[ep] = lab.call("/NetworkDriver.Join", lab.ids(ep))["InterfaceName"]["SrcName"];
  }
  // An endpoint link whose endpoint mvlan does not know (its DeleteEndpoint came, the kernel
  // kept the link): nothing will ever take it.
  const std::string orphan = "mv0123456789ab";
  lab.nl->create_macvlan("w1", orphan, kernel::MacvlanMode::Bridge, {0x02, 0, 0, 0, 0, 1}, 0);
  // Docker got both Joins' answers; then the plugin dies before Docker moved the links.
  lab.daemon.signal(SIGKILL);
  lab.daemon.wait();
  lab.daemon.start({"MVLAN_JOIN_GRACE=3"});
  CHECK_FALSE(lab.nl->find_link(orphan));
  REQUIRE(lab.nl->find_link(link[kEp]));
  REQUIRE(lab.nl->find_link(link[kEp2]));

  // Docker takes the first into its container's namespace (here: a process's own namespace).
  const std::string pid_file = lab.daemon.dir() + "/container.pid";
  REQUIRE(std::system(("unshare -n sleep 60 & echo $! > " + pid_file).c_str()) == 0);
  std::string pid;
  for (int i = 0; i < 50 && pid.empty(); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    std::ifstream(pid_file) >> pid;
  }
  REQUIRE_FALSE(pid.empty());
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // unshare has run
  CHECK(std::system(("ip link set " + link[kEp] + " netns " + pid).c_str()) == 0);

  // The second stays in the host namespace: swept once the grace has passed.
  for (int i = 0; i < 100 && lab.nl->find_link(link[kEp2]); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  CHECK_FALSE(lab.nl->find_link(link[kEp2]));
  CHECK(std::system(
            ("nsenter -t " + pid + " -n ip link show " + link[kEp] + " >/dev/null").c_str()) == 0);
  std::system(("kill " + pid).c_str());
  CHECK_THAT(lab.daemon.log(), Catch::Contains("kept endpoint link " + link[kEp2]) &&
                                   Catch::Contains("deleted endpoint link " + link[kEp2]) &&
                                   Catch::Contains("deleted leftover endpoint link " + orphan));
  // ... and the network still works from the database alone.
  const std::string again =
      lab.call("/NetworkDriver.Join", lab.ids(kEp2))["InterfaceName"]["SrcName"];
  CHECK(lab.nl->find_link(again));
}

TEST_CASE("a link Join makes again during the grace is not swept", "[netns]") {
  Lab lab;
  lab.create_network(kNet, {{"parent", "w1"}});
  lab.call("/NetworkDriver.CreateEndpoint",
           {{"NetworkID", kNet}, {"EndpointID", kEp}, {"Interface", json::object()}});
  const std::string link = lab.call("/NetworkDriver.Join", lab.ids(kEp))["InterfaceName"]["SrcName"];
  lab.daemon.signal(SIGKILL);
  lab.daemon.wait();
  lab.daemon.start({"MVLAN_JOIN_GRACE=1"});
  const int kept = lab.nl->find_link(link)->index;
  lab.call("/NetworkDriver.Join", lab.ids(kEp));  // the container started again meanwhile
  const int made = lab.nl->find_link(link)->index;
  CHECK(made != kept);
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  REQUIRE(lab.nl->find_link(link));
  CHECK(lab.nl->find_link(link)->index == made);
}

TEST_CASE("an endpoint whose CreateEndpoint Docker saw fail is dropped when Docker releases its "
          "address, and the address is granted again to a container that runs",
          "[netns]") {
  Lab lab;
  const std::string pool_id = lab.pool("198.51.100.0/24");
  lab.create_network(kNet, {{"parent", "w1"}});
  const json request = {{"PoolID", pool_id}, {"Address", ""}, {"Options", json::object()}};
  const std::string address = lab.call("/IpamDriver.RequestAddress", request)["Address"];
  const json create = {{"NetworkID", kNet},
                       {"EndpointID", kEp},
                       {"Interface", {{"Address", address}, {"MacAddress", ""}}}};
  // The plugin stored the endpoint, then died before Docker read the answer ...
  lab.call("/NetworkDriver.CreateEndpoint", create);
  lab.daemon.signal(SIGKILL);
  lab.daemon.wait();
  lab.daemon.start();
  // ... Docker retries with the body its first try consumed, fails the container, and releases
  // the address without DeleteEndpoint (libnetwork's rollback for a failed CreateEndpoint).
  auto retried = lab.daemon.post("/NetworkDriver.CreateEndpoint", std::string());
  CHECK(retried.status == 400);
  CHECK_THAT(
      retried.parsed()["Err"].get<std::string>(),
      Catch::Contains("missing field NetworkID") && Catch::Contains("run the command again"));
  const std::string plain = address.substr(0, address.find('/'));
  lab.call("/IpamDriver.ReleaseAddress", {{"PoolID", pool_id}, {"Address", plain}});
  CHECK_THAT(lab.daemon.log(), Catch::Contains("endpoint 60d9877deda3 still held " + plain));

  int code = -1;
  const std::string status =
      lab.daemon.run_cli({"status", "--state-dir", lab.daemon.state_dir(), "--json"}, &code);
  INFO(status);
  REQUIRE(code == 0);
  CHECK(json::parse(status)["Networks"][0]["Endpoints"].empty());
  // The same container, run again under a new endpoint id, gets the address and its link.
  lab.call("/IpamDriver.RequestAddress",
           {{"PoolID", pool_id}, {"Address", plain}, {"Options", json::object()}});
  lab.call("/NetworkDriver.CreateEndpoint",
           {{"NetworkID", kNet}, {"EndpointID", kEp2}, {"Interface", {{"Address", address}}}});
  const std::string link =
      lab.call("/NetworkDriver.Join", lab.ids(kEp2))["InterfaceName"]["SrcName"];
  CHECK(lab.nl->find_link(link));
  lab.call("/NetworkDriver.DeleteEndpoint", lab.ids(kEp));  // a late DeleteEndpoint is harmless
}

TEST_CASE("a network of two IPv4 and two IPv6 subnets answers Join with the gateways of the "
          "subnets holding each endpoint's addresses, as engines 20.10 and 28 send it",
          "[netns]") {
  Lab lab;
  const bool engine28 = GENERATE(false, true);
  INFO((engine28 ? "engine 28" : "engine 20.10"));
  const json gw_type = {{"RequestAddressType", "com.docker.network.gateway"}};
  // The network: --subnet 198.18.100.0/24 --subnet 198.18.102.0/24 --gateway
  // 198.18.102.254, --subnet 2001:db8:abc2::/64 --subnet 2001:db8:abc4::/64 --gateway ...::254.
  if (engine28) {
    auto skip = lab.call("/NetworkDriver.GwAllocCheck",
                         {{"Options", {{"com.docker.network.enable_ipv4", true},
                                       {"com.docker.network.enable_ipv6", true},
                                       {"com.docker.network.generic", {{"parent", "w1"}}}}}});
    CHECK(skip == json{{"SkipIPv4", true}, {"SkipIPv6", true}});
  }
  json data[2];
  std::map<std::string, std::string> pool_ids;
  for (const auto& [v6, subnet, gateway, len] :
       std::vector<std::tuple<bool, std::string, std::string, std::string>>{
           {false, "198.18.100.0/24", "", "/24"},
           {false, "198.18.102.0/24", "198.18.102.254", "/24"},
           {true, "2001:db8:abc2::/64", "", "/64"},
           {true, "2001:db8:abc4::/64", "2001:db8:abc4::254", "/64"}}) {
    const std::string id = lab.call("/IpamDriver.RequestPool",
                                    {{"AddressSpace", "LocalDefault"}, {"Pool", subnet},
                                     {"SubPool", ""}, {"Options", json::object()}, {"V6", v6}})["PoolID"];
    pool_ids[subnet] = id;
    json entry{{"AddressSpace", "LocalDefault"}, {"Pool", subnet}};
    // Engine 20.10 asks for every gateway; engine 28, told to skip, only for the ones given.
    if (!engine28 || !gateway.empty()) {
      entry["Gateway"] = lab.call("/IpamDriver.RequestAddress",
                                  {{"PoolID", id}, {"Address", gateway}, {"Options", gw_type}})["Address"];
    }
    data[v6].push_back(entry);
  }
  lab.call("/NetworkDriver.CreateNetwork",
           {{"NetworkID", kNet},
            {"Options", {{"com.docker.network.enable_ipv6", true},
                         {"com.docker.network.generic", {{"parent", "w1"}}}}},
            {"IPv4Data", data[0]},
            {"IPv6Data", data[1]}});

  auto run = [&](const std::string& ep, const std::string& s4, const std::string& a4,
                 const std::string& s6, const std::string& a6) {
    for (const auto& [subnet, address] : {std::pair{s4, a4}, std::pair{s6, a6}}) {
      lab.call("/IpamDriver.RequestAddress", {{"PoolID", pool_ids.at(subnet)},
                                              {"Address", address}, {"Options", json::object()}});
    }
    lab.call("/NetworkDriver.CreateEndpoint",
             {{"NetworkID", kNet}, {"EndpointID", ep},
              {"Interface", {{"Address", a4 + "/24"}, {"AddressIPv6", a6 + "/64"}, {"MacAddress", ""}}},
              {"Options", json::object()}});
    return lab.call("/NetworkDriver.Join", {{"NetworkID", kNet}, {"EndpointID", ep},
                                            {"SandboxKey", "/var/run/docker/netns/x"},
                                            {"Options", json::object()}});
  };
  // The failing run: the second subnets' gateways, not the first ones'.
  auto second = run(kEp, "198.18.102.0/24", "198.18.102.20", "2001:db8:abc4::/64", "2001:db8:abc4::20");
  CHECK(second["Gateway"] == "198.18.102.254");
  CHECK(second["GatewayIPv6"] == "2001:db8:abc4::254");
  CHECK_FALSE(second.contains("StaticRoutes"));
  // The first subnets' gateways were picked, by the IPAM for 20.10, by the driver for 28.
  auto first = run(kEp2, "198.18.100.0/24", "198.18.100.20", "2001:db8:abc2::/64", "2001:db8:abc2::20");
  CHECK(first["Gateway"] == "198.18.100.1");
  CHECK(first["GatewayIPv6"] == "2001:db8:abc2::1");
  CHECK(lab.nl->find_link(first["InterfaceName"]["SrcName"]));
}

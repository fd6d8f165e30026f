// The etcd IPAM backend: several `mvlan serve` instances (each its own state directory and host
// id, as on separate Docker hosts) drawing one subnet from one real three-member etcd cluster.

#include <httplib.h>
#include <sched.h>
#include <signal.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "tests/etcd/cluster.h"
#include "tests/support/daemon.h"
#include "tests/support/expect.h"

using mvlan::test::Daemon;
using mvlan::test::EtcdCluster;
using mvlan::test::json;
using mvlan::test::ok;
using mvlan::test::shell;

namespace {

std::string env_prefix(const std::vector<std::string>& env) {
  std::string out = "env";
  for (const auto& e : env) out += " '" + e + "'";
  return out;
}

// `mvlan ARGS` in the environment of `host`: stdout only, and the exit status.
std::string cli(const EtcdCluster& cluster, const std::string& host, const std::string& args,
                int* code = nullptr) {
  return shell("{ " + env_prefix(cluster.env(host)) + " " + mvlan::test::mvlan_binary() + " " +
                   args + "; }",
               code);
}

json cluster_status(const EtcdCluster& cluster, const std::string& host, const Daemon& d) {
  int code = 0;
  const std::string out = shell("{ " + env_prefix(cluster.env(host)) + " " +
                                    mvlan::test::mvlan_binary() + " status --json --state-dir " +
                                    d.state_dir() + " 2>/dev/null; }",
                                &code);
  INFO(out);
  REQUIRE(code == 0);
  return json::parse(out)["Cluster"];
}

json pool_request(const std::string& subnet) {
  return json{{"AddressSpace", "LocalDefault"}, {"Pool", subnet}, {"Options", json::object()},
              {"V6", false}};
}

json address_request(const std::string& pool_id, const std::string& address = "",
                     bool gateway = false) {
  json options = json::object();
  if (gateway) options["RequestAddressType"] = "com.docker.network.gateway";
  return json{{"PoolID", pool_id}, {"Address", address}, {"Options", options}};
}

std::string granted(const mvlan::test::Answer& a) {
  INFO(a.body);
  REQUIRE(a.status == 200);
  const std::string cidr = a.parsed()["Address"];
  return cidr.substr(0, cidr.find('/'));
}

// Addresses in etcd, each with the host that holds it ("*" for shared reservations).
std::map<std::string, std::string> holders(const json& cluster_view) {
  std::map<std::string, std::string> out;
  for (const auto& set : cluster_view["Sets"]) {
    for (const auto& a : set["Allocations"]) {
      out[a["Address"]] = a["Shared"].get<bool>() ? "*" : a["Host"].get<std::string>();
    }
  }
  return out;
}

struct Hosts {
  explicit Hosts(const EtcdCluster& cluster, int n) {
    for (int i = 0; i < n; ++i) {
      names.push_back("host" + std::to_string(i + 1));
      daemons.push_back(std::make_unique<Daemon>());
      daemons.back()->start(cluster.env(names.back()));
    }
  }
  std::vector<std::string> names;
  std::vector<std::unique_ptr<Daemon>> daemons;
};

}  // namespace

TEST_CASE("three hosts granting 10,000 addresses of one /18 at once never hand one out twice",
          "[etcd]") {
  EtcdCluster cluster;
  Hosts hosts(cluster, 3);
  const std::string pool = "LocalDefault/198.18.0.0/18";
  for (auto& d : hosts.daemons) {
    auto a = d->post("/IpamDriver.RequestPool", pool_request("198.18.0.0/18"));
    INFO(a.body);
    REQUIRE(a.status == 200);
    REQUIRE(a.parsed()["PoolID"] == pool);
  }
  // The gateway and an aux address, asked by every host as each creates the network: one each.
  std::set<std::string> gateways, aux;
  for (auto& d : hosts.daemons) {
    gateways.insert(granted(d->post("/IpamDriver.RequestAddress", address_request(pool, "", true))));
    aux.insert(granted(d->post("/IpamDriver.RequestAddress", address_request(pool, "198.18.0.21"))));
  }
  CHECK(gateways == std::set<std::string>{"198.18.0.1"});
  CHECK(aux == std::set<std::string>{"198.18.0.21"});

  constexpr int kClientsPerHost = 16;
  constexpr int kGrants = 10000;
  std::mutex mutex;
  std::vector<std::pair<std::string, std::string>> grants;  // (address, host)
  std::vector<std::string> failures;
  std::atomic<int> next{0};
  std::vector<std::thread> clients;
  for (size_t h = 0; h < hosts.daemons.size(); ++h) {
    for (int c = 0; c < kClientsPerHost; ++c) {
      clients.emplace_back([&, h] {
        httplib::Client http(hosts.daemons[h]->socket());
        http.set_address_family(AF_UNIX);
        http.set_keep_alive(true);
        http.set_read_timeout(60, 0);
        const std::string body = address_request(pool).dump();
        while (next.fetch_add(1) < kGrants) {
          auto res = http.Post("/IpamDriver.RequestAddress", body, "application/json");
          std::lock_guard<std::mutex> lock(mutex);
          if (!res || res->status != 200) {
            failures.push_back(res ? res->body : httplib::to_string(res.error()));
            continue;
          }
          const std::string cidr = json::parse(res->body)["Address"];
          grants.emplace_back(cidr.substr(0, cidr.find('/')), hosts.names[h]);
        }
      });
    }
  }
  for (auto& t : clients) t.join();
  INFO((failures.empty() ? std::string() : failures.front()));
  REQUIRE(failures.empty());
  REQUIRE(grants.size() == kGrants);

  std::map<std::string, std::string> by_address;
  for (const auto& [address, host] : grants) {
    INFO("granted twice: " << address);
    REQUIRE(by_address.emplace(address, host).second);
    REQUIRE(address != "198.18.0.1");
    REQUIRE(address != "198.18.0.21");
  }
  // Every instance sees every grant, with the host that holds it.
  for (size_t h = 0; h < hosts.daemons.size(); ++h) {
    const auto seen = holders(cluster_status(cluster, hosts.names[h], *hosts.daemons[h]));
    REQUIRE(seen.size() == kGrants + 2);
    CHECK(seen.at("198.18.0.1") == "*");
    CHECK(seen.at("198.18.0.21") == "*");
    for (const auto& [address, host] : by_address) {
      INFO(address);
      REQUIRE(seen.count(address) == 1);
      REQUIRE(seen.at(address) == host);
    }
  }
}

TEST_CASE("without etcd quorum grants and releases fail saying so, and nothing is allocated",
          "[etcd]") {
  EtcdCluster cluster;
  Hosts hosts(cluster, 2);
  const std::string pool = "LocalDefault/192.0.2.0/24";
  for (auto& d : hosts.daemons) {
    REQUIRE(d->post("/IpamDriver.RequestPool", pool_request("192.0.2.0/24")).status == 200);
  }
  const std::string first = granted(hosts.daemons[0]->post("/IpamDriver.RequestAddress",
                                                           address_request(pool)));

  // One member lost: the other two still form a quorum.
  cluster.kill(1);
  const std::string second = granted(hosts.daemons[1]->post("/IpamDriver.RequestAddress",
                                                            address_request(pool)));
  CHECK(second != first);

  const auto before = holders(cluster_status(cluster, "host1", *hosts.daemons[0]));
  REQUIRE(before.size() == 2);

  // Two lost: no quorum. Each request fails with a message naming etcd and its endpoints, and
  // says that nothing was allocated; no host falls back to handing out addresses on its own.
  cluster.kill(2);
  for (auto& d : hosts.daemons) {
    const auto a = d->post("/IpamDriver.RequestAddress", address_request(pool));
    INFO(a.body);
    CHECK(a.status == 503);
    const std::string message = a.parsed()["Err"];
    CHECK_THAT(message, Catch::Contains("etcd cluster " + cluster.endpoints()));
    CHECK_THAT(message, Catch::Contains("no quorum"));
    CHECK_THAT(message, Catch::Contains("no address was allocated"));
  }
  const auto release = hosts.daemons[0]->post(
      "/IpamDriver.ReleaseAddress", json{{"PoolID", pool}, {"Address", first}});
  CHECK(release.status == 503);
  CHECK_THAT(release.body, Catch::Contains("no quorum"));
  int code = 0;
  const std::string status = cli(cluster, "host1", "status 2>&1", &code);
  CHECK(code == 1);
  CHECK_THAT(status, Catch::Contains("no quorum"));

  cluster.restore(1);
  cluster.restore(2);
  CHECK(holders(cluster_status(cluster, "host1", *hosts.daemons[0])) == before);
  const std::string third = granted(hosts.daemons[0]->post("/IpamDriver.RequestAddress",
                                                           address_request(pool)));
  CHECK(before.count(third) == 0);
  CHECK(hosts.daemons[0]
            ->post("/IpamDriver.ReleaseAddress", json{{"PoolID", pool}, {"Address", first}})
            .status == 200);
}

TEST_CASE("release-host refuses a live host, and frees a gone host's addresses but not the "
          "shared gateway",
          "[etcd]") {
  EtcdCluster cluster;
  Hosts hosts(cluster, 2);
  const std::string pool = "LocalDefault/203.0.113.0/24";
  for (auto& d : hosts.daemons) {
    REQUIRE(d->post("/IpamDriver.RequestPool", pool_request("203.0.113.0/24")).status == 200);
    granted(d->post("/IpamDriver.RequestAddress", address_request(pool, "", true)));
  }
  std::set<std::string> of_host2;
  for (int i = 0; i < 5; ++i) {
    granted(hosts.daemons[0]->post("/IpamDriver.RequestAddress", address_request(pool)));
    of_host2.insert(
        granted(hosts.daemons[1]->post("/IpamDriver.RequestAddress", address_request(pool))));
  }
  int code = 0;
  std::string out = cli(cluster, "host2", "release-host host1 2>&1", &code);
  CHECK(code == 1);
  CHECK_THAT(out, Catch::Contains("host host1 is alive"));
  CHECK(holders(cluster_status(cluster, "host2", *hosts.daemons[1])).size() == 11);

  // A clean stop revokes host1's lease at once.
  hosts.daemons[0]->signal(SIGTERM);
  REQUIRE(hosts.daemons[0]->wait() == 0);
  out = cli(cluster, "host2", "release-host host1 2>&1", &code);
  INFO(out);
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("released 5 addresses"));
  auto left = holders(cluster_status(cluster, "host2", *hosts.daemons[1]));
  CHECK(left.size() == 6);
  CHECK(left.at("203.0.113.1") == "*");
  for (const auto& a : of_host2) CHECK(left.at(a) == "host2");

  // --force frees a live host too (the operator knows better than the lease).
  out = cli(cluster, "host1", "release-host host2 --force 2>&1", &code);
  CHECK(code == 0);
  CHECK(holders(cluster_status(cluster, "host2", *hosts.daemons[1])).size() == 1);
}

TEST_CASE("a restarted plugin keeps its pool and grants, and continues after its last grant",
          "[etcd]") {
  EtcdCluster cluster;
  Daemon d;
  d.start(cluster.env("host1"));
  const std::string pool = "LocalDefault/198.51.100.0/24";
  REQUIRE(d.post("/IpamDriver.RequestPool", pool_request("198.51.100.0/24")).status == 200);
  const std::string a = granted(d.post("/IpamDriver.RequestAddress", address_request(pool)));
  const std::string b = granted(d.post("/IpamDriver.RequestAddress", address_request(pool)));
  REQUIRE(d.post("/IpamDriver.ReleaseAddress", json{{"PoolID", pool}, {"Address", b}}).status ==
          200);
  d.signal(SIGKILL);
  d.wait();
  d.start(cluster.env("host1"));
  // The pool is known again, the released address is not handed out at once, `a` is still held.
  const std::string c = granted(d.post("/IpamDriver.RequestAddress", address_request(pool)));
  CHECK(c != b);
  CHECK(c != a);
  const auto again = d.post("/IpamDriver.RequestAddress", address_request(pool, a));
  CHECK(again.status == 409);
  CHECK_THAT(again.body, Catch::Contains("held as a dynamic address of host host1"));
}

TEST_CASE("hosts share a subnet only when they give the very same one", "[etcd]") {
  EtcdCluster cluster;
  Hosts hosts(cluster, 2);
  REQUIRE(hosts.daemons[0]->post("/IpamDriver.RequestPool", pool_request("192.0.2.0/24")).status ==
          200);
  const auto a = hosts.daemons[1]->post("/IpamDriver.RequestPool", pool_request("192.0.2.0/23"));
  CHECK(a.status == 409);
  CHECK_THAT(a.body, Catch::Contains("192.0.2.0/23 overlaps pool 192.0.2.0/24 of host host1"));
}

TEST_CASE("invalid etcd settings stop serve with a message naming the setting", "[etcd]") {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"MVLAN_IPAM_BACKEND=zookeeper", "MVLAN_IPAM_BACKEND \"zookeeper\" is unknown"},
      {"MVLAN_IPAM_BACKEND=etcd", "needs MVLAN_ETCD_ENDPOINTS"},
      {"MVLAN_IPAM_BACKEND=etcd MVLAN_ETCD_ENDPOINTS=ftp://192.0.2.1:2379",
       "MVLAN_ETCD_ENDPOINTS entry \"ftp://192.0.2.1:2379\" is not http://HOST:PORT"},
      {"MVLAN_IPAM_BACKEND=etcd MVLAN_ETCD_ENDPOINTS=http://127.0.0.1:2379 MVLAN_HOST_ID=a/b",
       "MVLAN_HOST_ID \"a/b\" must be"},
      {"MVLAN_IPAM_BACKEND=etcd MVLAN_ETCD_ENDPOINTS=http://127.0.0.1:2379 "
       "MVLAN_ETCD_CACERT=/nonexistent",
       "MVLAN_ETCD_CACERT is set but no MVLAN_ETCD_ENDPOINTS entry is https://"},
  };
  for (const auto& [env, message] : cases) {
    int code = 0;
    const std::string out = shell("env " + env + " " + mvlan::test::mvlan_binary() +
                                      " serve --socket /tmp/mvlan-etcd-never.sock "
                                      "--state-dir /tmp/mvlan-etcd-never",
                                  &code);
    INFO(env);
    CHECK(code == 2);
    CHECK_THAT(out, Catch::Contains(message));
  }
}

namespace {

const std::string kNet = "dd884eff7552ed298b061a016836dcba0cf0383a87432ce88b41be817f47685d";
const std::string kEp1 = "186048c5dbd0dc2ae5343b39705c208bcfda9d6cb5c194954118d742d76546ad";
const std::string kEp2 = "60d9877deda382f7e23595cd12421c3b1e646cccdb34a95ce0d54f7d8361f382";

// The cluster view's entry for one address, or null when etcd holds no grant of it.
json allocation_of(const json& cluster_view, const std::string& address) {
  for (const auto& set : cluster_view["Sets"]) {
    for (const auto& a : set["Allocations"]) {
      if (a["Address"] == address) return a;
    }
  }
  return nullptr;
}

// A network on the parent w1 (made by the test in its own namespace) and the pool 192.0.2.0/24.
json create_network(const std::string& gateway) {
  return json{{"NetworkID", kNet},
              {"Options",
               {{"com.docker.network.enable_ipv6", false},
                {"com.docker.network.generic", {{"parent", "w1"}}}}},
              {"IPv4Data", json::array({{{"AddressSpace", "LocalDefault"},
                                         {"Gateway", gateway + "/24"},
                                         {"Pool", "192.0.2.0/24"}}})},
              {"IPv6Data", json::array()}};
}

json create_endpoint(const std::string& endpoint, const std::string& address,
                     const std::string& mac) {
  return json{
      {"NetworkID", kNet},
      {"EndpointID", endpoint},
      {"Interface", {{"Address", address + "/24"}, {"AddressIPv6", ""}, {"MacAddress", mac}}},
      {"Options", json::object()}};
}

}  // namespace

TEST_CASE("every host's mvlan status names the endpoint holding an address until it is released",
          "[etcd]") {
  // A network namespace of this test process's own, where etcd, both plugins and a veth parent
  // link live and which goes away with the process: CreateNetwork needs a parent, and the host's
  // links are not this test's to use.
  REQUIRE(::unshare(CLONE_NEWNET) == 0);
  int code = 0;
  const std::string setup = shell(
      "ip link set lo up && ip link add w1 type veth peer name w1p && ip link set w1 up", &code);
  INFO(setup);
  REQUIRE(code == 0);
  EtcdCluster cluster;
  Hosts hosts(cluster, 2);
  Daemon& a = *hosts.daemons[0];
  const std::string pool = "LocalDefault/192.0.2.0/24";
  REQUIRE(ok(a, "/IpamDriver.RequestPool", pool_request("192.0.2.0/24"))["PoolID"] == pool);
  const std::string gateway =
      granted(a.post("/IpamDriver.RequestAddress", address_request(pool, "", true)));
  // No Join follows: no macvlan link is made on w1.
  ok(a, "/NetworkDriver.CreateNetwork", create_network(gateway));

  // Docker 20.10 sends the endpoint's MAC with RequestAddress (the wire capture); a request
  // without one is named just the same.
  const std::string mac1 = "02:42:c0:00:02:0a";
  json with_mac = address_request(pool);
  with_mac["Options"] = {{"com.docker.network.endpoint.macaddress", mac1}};
  const std::string addr1 = granted(a.post("/IpamDriver.RequestAddress", with_mac));
  ok(a, "/NetworkDriver.CreateEndpoint", create_endpoint(kEp1, addr1, mac1));
  const std::string addr2 = granted(a.post("/IpamDriver.RequestAddress", address_request(pool)));
  ok(a, "/NetworkDriver.CreateEndpoint", create_endpoint(kEp2, addr2, "02:42:c0:00:02:0b"));

  // Host 2 has no endpoint of its own: what it shows comes from etcd.
  const json view = cluster_status(cluster, "host2", *hosts.daemons[1]);
  INFO(view.dump(2));
  const json g1 = allocation_of(view, addr1), g2 = allocation_of(view, addr2);
  REQUIRE(g1.is_object());
  REQUIRE(g2.is_object());
  CHECK(g1["Host"] == "host1");
  CHECK(g1["EndpointID"] == kEp1);
  CHECK(g1["MacAddress"] == mac1);
  CHECK(g2["Host"] == "host1");
  CHECK(g2["EndpointID"] == kEp2);
  CHECK_FALSE(allocation_of(view, gateway).contains("EndpointID"));
  const std::string text =
      cli(cluster, "host2", "status --state-dir " + hosts.daemons[1]->state_dir() + " 2>/dev/null",
          &code);
  INFO(text);
  CHECK(code == 0);
  CHECK_THAT(text, Catch::Contains("host1       " + kEp1.substr(0, 12) + "  " + mac1));

  // docker stop: DeleteEndpoint, then ReleaseAddress.
  ok(a, "/NetworkDriver.DeleteEndpoint", {{"NetworkID", kNet}, {"EndpointID", kEp1}});
  ok(a, "/IpamDriver.ReleaseAddress", {{"PoolID", pool}, {"Address", addr1}});
  const json after = cluster_status(cluster, "host2", *hosts.daemons[1]);
  CHECK(allocation_of(after, addr1).is_null());
  CHECK(allocation_of(after, addr2)["EndpointID"] == kEp2);

  // An address released before its CreateEndpoint arrives stays released: naming the endpoint
  // does not bring the grant back.
  const std::string addr3 = granted(a.post("/IpamDriver.RequestAddress", address_request(pool)));
  ok(a, "/IpamDriver.ReleaseAddress", {{"PoolID", pool}, {"Address", addr3}});
  ok(a, "/NetworkDriver.CreateEndpoint", create_endpoint(kEp1, addr3, mac1));
  CHECK(allocation_of(cluster_status(cluster, "host2", *hosts.daemons[1]), addr3).is_null());

  ok(a, "/NetworkDriver.DeleteEndpoint", {{"NetworkID", kNet}, {"EndpointID", kEp1}});
  ok(a, "/NetworkDriver.DeleteEndpoint", {{"NetworkID", kNet}, {"EndpointID", kEp2}});
  ok(a, "/NetworkDriver.DeleteNetwork", {{"NetworkID", kNet}});
}

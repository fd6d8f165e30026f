// Sticky addresses in the etcd store, against a real three-member etcd cluster: the rule suite
// the SQLite store runs too (tests/ipam/sticky_rules.h), then what only a shared store has: two
// hosts binding the same names at once, release-host, and `mvlan forget` reading etcd.

#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <memory>
#include <mutex>
#include <thread>

#include "ipam/etcd_pool_store.h"
#include "tests/etcd/cluster.h"
#include "tests/ipam/store_fixtures.h"
#include "tests/support/daemon.h"

namespace mvlan::ipam::test {

// Stores of host1 (and others on demand) under a key prefix of their own, on one etcd cluster
// per test process; restart() opens host1's store again, as a plugin restart does.
class StickyStore {
 public:
  static constexpr int kChurnSteps = 600;  // every step reads the whole cluster view

  StickyStore() : client_(settings()), store_(host("host1")) {}
  PoolStore& pools() { return *store_; }
  void restart() { store_ = host("host1"); }
  std::unique_ptr<EtcdPoolStore> host(const std::string& id) {
    return std::make_unique<EtcdPoolStore>(client_, prefix_, id, std::vector<DefaultPool>{});
  }
  etcd::Client& client() { return client_; }
  const std::string& prefix() const { return prefix_; }
  // `mvlan ARGS` as host `id` on this store's keys: its output, and the exit status in *code.
  std::string cli(const std::string& id, const std::string& args, int* code) const {
    return mvlan::test::shell(
        "env MVLAN_IPAM_BACKEND=etcd MVLAN_ETCD_ENDPOINTS=" + cluster().endpoints() +
            " MVLAN_ETCD_PREFIX=" + prefix_ + " MVLAN_HOST_ID=" + id + " " +
            mvlan::test::mvlan_binary() + " " + args,
        code);
  }

  static mvlan::test::EtcdCluster& cluster() {
    static mvlan::test::EtcdCluster c;
    return c;
  }

 private:
  static etcd::Settings settings() {
    etcd::Settings s;
    std::string rest = cluster().endpoints();
    for (size_t comma; (comma = rest.find(',')) != std::string::npos; rest.erase(0, comma + 1)) {
      s.endpoints.push_back(rest.substr(0, comma));
    }
    s.endpoints.push_back(rest);
    return s;
  }
  static std::string unique_prefix() {
    static std::atomic<int> n{0};
    return "/mvlan-sticky-" + std::to_string(::getpid()) + "-" + std::to_string(n++) + "/";
  }

  std::string prefix_ = unique_prefix();
  etcd::Client client_;
  std::unique_ptr<EtcdPoolStore> store_;
};

}  // namespace mvlan::ipam::test

#include "tests/ipam/sticky_rules.h"
#include "tests/ipam/pool_store_rules.h"

using namespace mvlan;
using namespace mvlan::ipam;
using namespace mvlan::ipam::test;
using json = nlohmann::json;

namespace {

// The binding index agrees with the records: every names/ key points at a record bound to that
// host, pool and name, and every bound record has its names/ key. Returns how many bindings.
size_t check_index(StickyStore& store) {
  const std::string names = store.prefix() + "names/";
  std::map<std::string, std::string> index;
  for (const auto& kv : store.client().range(names, etcd::prefix_end(names)).kvs) {
    index[kv.key] = kv.value;
  }
  const size_t count = index.size();
  const std::string dir = store.prefix() + "addr/";
  for (const auto& kv : store.client().range(dir, etcd::prefix_end(dir)).kvs) {
    const json v = json::parse(kv.value);
    if (!v.contains("name")) continue;
    const std::string key = names + v["host"].get<std::string>() + "/" +
                            v["pool"].get<std::string>() + "/" + v["name"].get<std::string>();
    INFO(kv.key << " " << kv.value);
    REQUIRE(index.count(key) == 1);
    CHECK(index[key] == kv.key.substr(kv.key.rfind('/') + 1));
    index.erase(key);
  }
  INFO((index.empty() ? std::string() : index.begin()->first));
  CHECK(index.empty());
  return count;
}

std::optional<ClusterGrant> cluster_grant(EtcdPoolStore& store, const std::string& address) {
  for (const auto& set : store.cluster_status().sets) {
    for (const auto& g : set.grants) {
      if (g.address.str() == address) return g;
    }
  }
  return std::nullopt;
}

}  // namespace

TEST_CASE(
    "two hosts granting and releasing under the same names at once never hold one address "
    "twice, names come back, and the binding index agrees with the grants",
    "[etcd][sticky]") {
  StickyStore store;
  std::vector<std::unique_ptr<EtcdPoolStore>> hosts;
  hosts.push_back(store.host("host1"));
  hosts.push_back(store.host("host2"));
  // 14 usable addresses for 24 names: parked addresses are evicted, and some requests find none.
  const auto id = hosts[0]->request_pool(spec("192.0.2.0/28")).id;
  REQUIRE(hosts[1]->request_pool(spec("192.0.2.0/28")).id == id);

  std::mutex mutex;
  std::map<std::string, std::string> held;  // address -> "host/name", as answered
  std::vector<std::string> problems;
  std::atomic<int> came_back{0}, grants{0};
  std::vector<std::thread> clients;
  for (size_t h = 0; h < hosts.size(); ++h) {
    for (int t = 0; t < 4; ++t) {
      clients.emplace_back([&, h, t] {
        std::mt19937 rng(static_cast<unsigned>(1000 * h + t));
        std::map<std::string, std::string> running, parked;  // name -> address
        for (int step = 0; step < 60; ++step) {
          const std::string name = "c" + std::to_string(3 * t + static_cast<int>(rng() % 3));
          const std::string who = "host" + std::to_string(h + 1) + "/" + name;
          if (running.count(name)) {
            const std::string a = running[name];
            {
              std::lock_guard<std::mutex> lock(mutex);
              held.erase(a);  // before the release: its answer makes the address another's
            }
            hosts[h]->release_address(id, addr(a.c_str()));
            parked[name] = a;
            running.erase(name);
            continue;
          }
          std::string a;
          try {
            a = grant(*hosts[h], id, named(name.c_str()));
          } catch (const Error& e) {
            if (e.kind == ErrorKind::Exhausted) continue;  // 14 containers run
            std::lock_guard<std::mutex> lock(mutex);
            problems.push_back(who + ": " + e.what());
            continue;
          }
          ++grants;
          std::lock_guard<std::mutex> lock(mutex);
          if (!held.emplace(a, who).second) {
            problems.push_back(a + " granted to " + who + " while " + held[a] + " holds it");
          }
          if (parked.count(name) && parked[name] == a) ++came_back;
          running[name] = a;
        }
      });
    }
  }
  for (auto& c : clients) c.join();
  INFO((problems.empty() ? std::string() : problems.front()));
  CHECK(problems.empty());
  CHECK(grants > 150);
  CHECK(came_back > 10);
  // Every running container's address is in etcd, granted to its host under its name, held.
  for (const auto& [address, who] : held) {
    const auto g = cluster_grant(*hosts[0], address);
    INFO(address << " " << who);
    REQUIRE(g);
    CHECK(g->holders.at(0).first + "/" + g->name == who);
    CHECK_FALSE(g->parked_at);
  }
  CHECK(check_index(store) >= held.size());
}

TEST_CASE(
    "release-host frees a gone host's addresses, parked ones too, and drops its bindings, "
    "while the other host keeps its own",
    "[etcd][sticky]") {
  StickyStore store;
  auto host1 = store.host("host1");
  auto host2 = store.host("host2");
  const auto id = host1->request_pool(spec("192.0.2.0/24")).id;
  REQUIRE(host2->request_pool(spec("192.0.2.0/24")).id == id);
  const std::string web1 = grant(*host1, id, named("web"));
  grant(*host1, id, named("db"));
  const std::string web2 = grant(*host2, id, named("web"));  // the same name on another host
  CHECK(web2 != web1);
  CHECK(host1->release_address(id, addr(web1.c_str())));
  CHECK(host2->release_address(id, addr(web2.c_str())));
  const auto parked = cluster_grant(*host2, web1);
  REQUIRE(parked);
  CHECK(parked->name == "web");
  CHECK(parked->parked_at);
  CHECK(check_index(store) == 3);

  CHECK(host2->release_host("host1") == 2);
  CHECK_FALSE(cluster_grant(*host2, web1));
  CHECK(check_index(store) == 1);
  const std::string gone = store.prefix() + "names/host1/";
  CHECK(store.client().range(gone, etcd::prefix_end(gone)).kvs.empty());
  // host2's web is still parked for it, and comes back.
  CHECK(grant(*host2, id, named("web")) == web2);
}

TEST_CASE("releasing a pool removes its bindings, held and parked, from etcd", "[etcd][sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/24")).id;
  grant(pools, id, named("web"));
  grant(pools, id, named("db"));
  CHECK(pools.release_address(id, addr("192.0.2.1")));
  CHECK(check_index(store) == 2);
  CHECK(pools.release_pool(id));
  CHECK(check_index(store) == 0);
  const std::string dir = store.prefix() + "addr/";
  CHECK(store.client().range(dir, etcd::prefix_end(dir)).kvs.empty());
}

TEST_CASE(
    "mvlan forget with etcd drops this host's parked binding and frees its address, and "
    "refuses a held one",
    "[etcd][sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const auto id = pools.request_pool(spec("192.0.2.0/24")).id;
  CHECK(grant(pools, id, named("web")) == "192.0.2.1");
  CHECK(grant(pools, id, named("db")) == "192.0.2.2");
  CHECK(pools.release_address(id, addr("192.0.2.1")));
  const std::string no_state = " --state-dir /nonexistent/mvlan 2>&1";
  int code = 0;
  std::string out = store.cli("host2", "forget web" + no_state, &code);
  CHECK(code == 1);
  CHECK_THAT(out, Catch::Contains("no pool of host host2 binds \"web\""));
  out = store.cli("host1", "forget db" + no_state, &code);
  CHECK(code == 1);
  CHECK_THAT(out, Catch::Contains("192.0.2.2 in pool " + id + " is held by a container"));
  out = store.cli("host1", "forget web" + no_state, &code);
  INFO(out);
  CHECK(code == 0);
  CHECK_THAT(out, Catch::Contains("forgot web: 192.0.2.1 in pool " + id + " is free"));
  const auto s = pools.status().at(0);
  CHECK_FALSE(bound(s, "web"));
  CHECK(s.allocations.size() == 1);
  CHECK(check_index(store) == 1);
}

TEST_CASE(
    "a pool released while its addresses are still being released (a swarm teardown) leaves "
    "no record and no binding in etcd",
    "[etcd][sticky]") {
  StickyStore store;
  PoolStore& pools = store.pools();
  const std::string addrs = store.prefix() + "addr/";
  const std::string names = store.prefix() + "names/";
  // Docker may send ReleasePool before the ReleaseAddress of its last endpoints has answered:
  // a release that parks an address rewrites its record while the pool's release erases it.
  for (int round = 0; round < 12; ++round) {
    const auto id = pools.request_pool(spec("192.0.2.0/24")).id;
    std::vector<std::string> granted;
    for (int i = 0; i < 24; ++i) {
      granted.push_back(grant(pools, id, named(("task" + std::to_string(i)).c_str())));
    }
    std::atomic<bool> started{false};
    std::thread releases([&] {
      started = true;
      for (const auto& a : granted) pools.release_address(id, addr(a.c_str()));
    });
    while (!started) std::this_thread::yield();
    ::usleep(static_cast<useconds_t>(1000 * (round % 4)));
    CHECK(pools.release_pool(id));
    releases.join();
    INFO("round " << round);
    const auto left = store.client().range(addrs, etcd::prefix_end(addrs)).kvs;
    CHECK(left.empty());
    CHECK(store.client().range(names, etcd::prefix_end(names)).kvs.empty());
    if (!left.empty()) break;
  }
}

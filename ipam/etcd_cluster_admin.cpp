// The cluster views only the CLI uses (`mvlan status`, `mvlan release-host`): every host's pools
// and grants read from the keys themselves, whether a host is alive, and freeing a gone host.

#include <algorithm>
#include <nlohmann/json.hpp>

#include "ipam/etcd_pool_store.h"

namespace mvlan::ipam {

using namespace etcd_records;  // the store's key, record and transaction helpers

ClusterStatus EtcdPoolStore::cluster_status() {
  ClusterStatus out;
  const std::string hosts = prefix_ + "hosts/";
  for (const auto& kv : etcd_.range(hosts, etcd::prefix_end(hosts), 0, true).kvs) {
    out.live_hosts.push_back(kv.key.substr(hosts.size()));
  }
  auto set_for = [&](const std::string& space, const Prefix& subnet) -> ClusterSet& {
    auto it = std::find_if(out.sets.begin(), out.sets.end(), [&](const ClusterSet& s) {
      return s.space == space && s.subnet == subnet;
    });
    if (it != out.sets.end()) return *it;
    out.sets.push_back(ClusterSet{space, subnet, {}, {}});
    return out.sets.back();
  };
  for (const auto& [host, pool] : cluster_pools()) {
    set_for(pool.address_space, pool.subnet).pools.emplace_back(host, pool);
  }
  // Grants are listed from the address keys themselves, so those whose pools are gone (a host
  // released with release-host) still show.
  const std::string dir = prefix_ + "addr/";
  for_each_key(etcd_, dir, etcd::prefix_end(dir), [&](const etcd::KeyValue& kv) {
    // addr/<space>/<network hex>-<length>/<address hex>
    const std::string rest = kv.key.substr(dir.size());
    const auto s1 = rest.find('/');
    const auto dash = rest.find('-', s1);
    const auto s2 = rest.rfind('/');
    if (s1 == std::string::npos || dash == std::string::npos || s2 <= dash) return true;
    auto network = from_hex(rest.substr(s1 + 1, dash - s1 - 1));
    auto a = from_hex(rest.substr(s2 + 1));
    const std::string length = rest.substr(dash + 1, s2 - dash - 1);
    if (!network || !a || length.empty() || length.size() > 3 ||
        length.find_first_not_of("0123456789") != std::string::npos) {
      return true;
    }
    set_for(rest.substr(0, s1), Prefix::of(*network, std::stoi(length)))
        .grants.push_back(cluster_grant(kv, *a));
    return true;
  });
  return out;
}

ClusterGrant EtcdPoolStore::cluster_grant(const etcd::KeyValue& kv, const Address& a) {
  const json v = parse_value(kv);
  ClusterGrant g;
  g.address = a;
  g.kind = parse_grant_kind(v.value("kind", "")).value_or(GrantKind::Dynamic);
  g.shared = v.value("shared", false);
  g.mac = v.value("mac", "");
  g.endpoint = v.value("endpoint", "");
  if (const auto b = binding_in(v, a)) {
    g.name = b->name;
    g.parked_at = b->parked_at;
  }
  if (g.shared) {
    for (const auto& h : v.value("holders", json::array())) {
      if (h.size() == 2) g.holders.emplace_back(h[0], h[1]);
    }
  } else {
    g.holders.emplace_back(v.value("host", ""), v.value("pool", ""));
  }
  return g;
}

bool EtcdPoolStore::host_alive(const std::string& host) {
  return etcd_records::read_one(etcd_, prefix_ + "hosts/" + host).has_value();
}

size_t EtcdPoolStore::release_host(const std::string& host) {
  const std::string dir = prefix_ + "addr/";
  std::vector<etcd::KeyValue> held;
  for_each_key(etcd_, dir, etcd::prefix_end(dir), [&](const etcd::KeyValue& kv) {
    const json v = parse_value(kv);
    if (!v.value("shared", false) && v.value("host", "") == host) held.push_back(kv);
    return true;
  });
  const size_t freed = erase_records(held);
  // Its bindings went with their records; an index left by a torn change goes here.
  etcd::Txn rest;
  for (const char* kind : {"pools/", "names/"}) {
    auto erase = Op::erase(prefix_ + kind + host + "/");
    erase.range_end = etcd::prefix_end(erase.key);
    rest.success.push_back(erase);
  }
  etcd_.txn(rest);
  return freed;
}

}  // namespace mvlan::ipam

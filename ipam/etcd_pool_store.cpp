// The etcd store's pools: this host's own under pools/<host>/ (read once, then kept here), every
// host's for the overlap rules, and the key names of a pool's address set.

#include "ipam/etcd_pool_store.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "common/error.h"
#include "ipam/pool_errors.h"

namespace mvlan::ipam {
namespace {

using namespace etcd_records;  // the store's key, record and transaction helpers

// etcd allows 128 operations per transaction by default: a record and its binding's index each.
constexpr size_t kRecordsPerTxn = 60;

Pool pool_from(const std::string& id, const json& j) {
  Pool p;
  p.id = id;
  p.address_space = j.value("space", "");
  auto subnet = Prefix::parse(j.value("subnet", ""));
  if (!subnet) throw Error(ErrorKind::Store, "etcd holds a malformed pool " + id);
  p.subnet = *subnet;
  if (const std::string r = j.value("range", ""); !r.empty()) p.range = Prefix::parse(r);
  p.order = parse_allocation_order(j.value("allocation", "")).value_or(AllocationOrder::RoundRobin);
  p.sticky = j.value("sticky", true);
  return p;
}

}  // namespace

EtcdPoolStore::EtcdPoolStore(etcd::Client& client, std::string prefix, std::string host,
                             std::vector<DefaultPool> defaults)
    : etcd_(client),
      prefix_(std::move(prefix)),
      host_(std::move(host)),
      defaults_(std::move(defaults)) {}

void EtcdPoolStore::load_pools() {
  if (loaded_) return;
  const std::string dir = prefix_ + "pools/" + host_ + "/";
  for (const auto& kv : etcd_.range(dir, etcd::prefix_end(dir)).kvs) {
    const std::string id = kv.key.substr(dir.size());
    pools_[id] = LocalPool{pool_from(id, parse_value(kv)), {}};
  }
  loaded_ = true;
}

std::optional<EtcdPoolStore::LocalPool> EtcdPoolStore::local(const std::string& pool_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  load_pools();
  auto it = pools_.find(pool_id);
  if (it == pools_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::pair<std::string, Pool>> EtcdPoolStore::cluster_pools() {
  const std::string dir = prefix_ + "pools/";
  std::vector<std::pair<std::string, Pool>> out;
  for (const auto& kv : etcd_.range(dir, etcd::prefix_end(dir)).kvs) {
    const std::string rest = kv.key.substr(dir.size());
    const auto slash = rest.find('/');
    if (slash == std::string::npos) continue;
    out.emplace_back(rest.substr(0, slash), pool_from(rest.substr(slash + 1), parse_value(kv)));
  }
  return out;
}

std::string EtcdPoolStore::set_of(const Pool& pool) const {
  return pool.address_space + "/" + hex(pool.subnet.network()) + "-" +
         std::to_string(pool.subnet.length());
}

std::string EtcdPoolStore::address_key(const std::string& set, const Address& a) const {
  return prefix_ + "addr/" + set + "/" + hex(a);
}

std::string EtcdPoolStore::pool_key(const std::string& host, const std::string& pool_id) const {
  return prefix_ + "pools/" + host + "/" + pool_id;
}

std::string EtcdPoolStore::cursor_key(const std::string& set, const Bounds& bounds) const {
  return prefix_ + "cursor/" + set + "/" + hex(bounds.lo) + "-" + hex(bounds.hi);
}

std::string EtcdPoolStore::gateway_key(const std::string& set) const {
  return prefix_ + "gateway/" + set;
}

Pool EtcdPoolStore::request_pool(const PoolSpec& spec) {
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    load_pools();
    const auto cluster = cluster_pools();
    // The cluster shares a set only for the very same subnet: a host with an overlapping but
    // different one would hand out addresses the others cannot see.
    auto cluster_clash = [&](const Prefix& c) -> std::optional<std::pair<std::string, Pool>> {
      for (const auto& [host, p] : cluster) {
        if (p.address_space == spec.address_space && p.subnet.overlaps(c) && !(p.subnet == c)) {
          return std::make_pair(host, p);
        }
      }
      return std::nullopt;
    };
    auto local_clashes = [&](const Prefix& c) {
      std::vector<Pool> out;
      for (const auto& [id, lp] : pools_) {
        if (lp.pool.address_space == spec.address_space && lp.pool.subnet.overlaps(c)) {
          out.push_back(lp.pool);
        }
      }
      return out;
    };

    const Prefix subnet = choose_subnet(spec, defaults_, [&](const Prefix& candidate) {
      if (auto l = local_clashes(candidate); !l.empty()) {
        return std::optional<Prefix>(l.front().subnet);
      }
      if (auto c = cluster_clash(candidate)) return std::optional<Prefix>(c->second.subnet);
      return std::optional<Prefix>();
    });
    for (const auto& other : local_clashes(subnet)) {
      check_may_share(spec, subnet, other);
      if (!(other.subnet == subnet)) {
        throw conflict("Pool " + subnet.str() + " overlaps " + describe(other) +
                       "; with MVLAN_IPAM_BACKEND=etcd overlapping pools must have the same "
                       "--subnet");
      }
    }
    if (auto c = cluster_clash(subnet)) {
      throw conflict("Pool " + subnet.str() + " overlaps " + describe(c->second) + " of host " +
                     c->first +
                     "; hosts share addresses only for the very same --subnet, so "
                     "give " +
                     c->second.subnet.str() + " on this host too");
    }

    const Pool pool = new_pool(
        unique_pool_id(spec, subnet, [&](const std::string& id) { return pools_.count(id) > 0; }),
        spec, subnet);
    const json record{{"space", pool.address_space},
                      {"subnet", subnet.str()},
                      {"range", pool.range ? pool.range->str() : ""},
                      {"allocation", name_of(pool.order)},
                      {"sticky", pool.sticky}};
    etcd_.put(pool_key(host_, pool.id), record.dump());
    pools_[pool.id] = LocalPool{pool, std::chrono::steady_clock::now()};
    return pool;
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    throw undone(e, "no pool was created");
  }
}

size_t EtcdPoolStore::erase_records(const std::vector<etcd::KeyValue>& records) {
  // A changed record fails only its batch, which is then retried record by record.
  auto erase = [&](TxnPlan& plan, const etcd::KeyValue& kv) {
    unbind(plan, kv);
    plan.erase(kv.key);
  };
  size_t erased = 0;
  for (size_t i = 0; i < records.size(); i += kRecordsPerTxn) {
    const size_t end = std::min(records.size(), i + kRecordsPerTxn);
    TxnPlan batch;
    for (size_t k = i; k < end; ++k) erase(batch, records[k]);
    if (etcd_.txn(batch.txn()).succeeded) {
      erased += end - i;
      continue;
    }
    for (size_t k = i; k < end; ++k) {
      TxnPlan one;
      erase(one, records[k]);
      if (etcd_.txn(one.txn()).succeeded) ++erased;
    }
  }
  return erased;
}

bool EtcdPoolStore::release_pool(const std::string& pool_id) {
  std::lock_guard<std::mutex> lock(mutex_);
  try {
    load_pools();
    auto it = pools_.find(pool_id);
    if (it == pools_.end()) return false;
    const Pool pool = it->second.pool;
    const std::string set = set_of(pool);
    const std::string dir = prefix_ + "addr/" + set + "/";
    // Only this host's grants through this pool go; other hosts keep theirs in the shared set.
    auto scan = [&] {
      std::vector<etcd::KeyValue> mine;
      for_each_key(etcd_, dir, etcd::prefix_end(dir), [&](const etcd::KeyValue& kv) {
        const json v = parse_value(kv);
        if (v.value("shared", false)) {
          drop_holder(set, kv, host_, pool_id);
        } else if (v.value("host", "") == host_ && v.value("pool", "") == pool_id) {
          mine.push_back(kv);
        }
        return true;
      });
      return mine;
    };
    // Docker may still be releasing the pool's last addresses: a release that parks one rewrites
    // its record between the scan and the erase, which then fails for it. Scan again until a
    // scan finds none, or the record would outlive its pool with nobody left to free it.
    for (int round = 0;; ++round) {
      const auto mine = scan();
      if (mine.empty()) break;
      if (round == kMaxAttempts) {
        throw kept_changing("the addresses of pool " + pool_id, "release the pool");
      }
      erase_records(mine);
    }
    etcd::Txn drop;
    drop.success.push_back(Op::erase(pool_key(host_, pool_id)));
    etcd_.txn(drop);
    pools_.erase(pool_id);
    return true;
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    throw undone(e, "the pool is still held; release it again");
  }
}

std::optional<Pool> EtcdPoolStore::find_pool(const std::string& pool_id) {
  auto lp = local(pool_id);
  if (!lp) return std::nullopt;
  return lp->pool;
}

std::vector<Pool> EtcdPoolStore::own_pools() {
  std::lock_guard<std::mutex> lock(mutex_);
  load_pools();
  std::vector<Pool> mine;
  for (const auto& [id, lp] : pools_) mine.push_back(lp.pool);
  return mine;
}

PoolStatus EtcdPoolStore::status_of(const Pool& pool, const std::vector<ClusterGrant>& grants) {
  PoolStatus ps{pool, {}, std::nullopt, capacity(dynamic_bounds(pool)), {}};
  for (const auto& g : grants) {
    for (const auto& [h, p] : g.holders) {
      if (h == host_ && p == pool.id) {
        ps.allocations.push_back(Allocation{g.address, pool.id, g.kind, g.mac});
        if (!g.name.empty()) ps.bindings.push_back(Binding{g.name, g.address, g.parked_at});
        break;
      }
    }
  }
  std::sort(ps.bindings.begin(), ps.bindings.end(),
            [](const Binding& x, const Binding& y) { return x.name < y.name; });
  if (auto bounds = dynamic_bounds(pool)) {
    if (auto kv = read_one(etcd_, cursor_key(set_of(pool), *bounds))) {
      ps.cursor = from_hex(kv->value.substr(kv->value.find('/') + 1));
    }
  }
  return ps;
}

std::vector<PoolStatus> EtcdPoolStore::status() {
  const auto mine = own_pools();
  const auto cluster = cluster_status();
  std::vector<PoolStatus> out;
  for (const auto& pool : mine) {
    std::vector<ClusterGrant> grants;
    for (const auto& set : cluster.sets) {
      if (set.space != pool.address_space || !(set.subnet == pool.subnet)) continue;
      grants.insert(grants.end(), set.grants.begin(), set.grants.end());
    }
    out.push_back(status_of(pool, grants));
  }
  return out;
}

std::vector<PoolStatus> EtcdPoolStore::status_of(const std::string& address_space,
                                                 const Prefix& subnet) {
  std::vector<Pool> pools;
  for (const auto& pool : own_pools()) {
    if (pool.address_space == address_space && pool.subnet == subnet) pools.push_back(pool);
  }
  if (pools.empty()) return {};
  // The pools share one set: its address keys are all the grants they can hold.
  const std::string dir = prefix_ + "addr/" + set_of(pools.front()) + "/";
  std::vector<ClusterGrant> grants;
  for_each_key(etcd_, dir, etcd::prefix_end(dir), [&](const etcd::KeyValue& kv) {
    if (auto a = from_hex(kv.key.substr(dir.size()))) grants.push_back(cluster_grant(kv, *a));
    return true;
  });
  std::vector<PoolStatus> out;
  for (const auto& pool : pools) out.push_back(status_of(pool, grants));
  return out;
}

}  // namespace mvlan::ipam

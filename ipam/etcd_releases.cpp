// What becomes of a grant in etcd after it is made: the endpoint holding it is written into its
// record, and a release frees it, parks it for its name, or drops one holder of a shared one.
// Each is a compare-and-swap on the grant's key, so a change made meanwhile is never undone.

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "common/error.h"
#include "ipam/etcd_pool_store.h"
#include "ipam/pool_errors.h"
#include "ipam/sticky.h"

namespace mvlan::ipam {
namespace {

using namespace etcd_records;  // the store's key, record and transaction helpers

// Docker writes MACs in lowercase, a user's --mac-address may not be.
bool same_mac(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

}  // namespace

bool EtcdPoolStore::drop_holder(const std::string& set, const etcd::KeyValue& first,
                                const std::string& host, const std::string& pool_id) {
  auto decide = [&](const MaybeKv& kv, int) -> Attempt<bool> {
    if (!kv) return Attempt<bool>::done(false);
    json v = parse_value(*kv);
    json kept = json::array();
    bool found = false;
    for (const auto& h : v.value("holders", json::array())) {
      if (h.size() == 2 && h[0] == host && h[1] == pool_id) {
        found = true;
      } else {
        kept.push_back(h);
      }
    }
    if (!found) return Attempt<bool>::done(false);
    TxnPlan plan;
    plan.expect(*kv);
    std::optional<etcd::Txn> gateway_index;
    if (kept.empty()) {
      plan.erase(kv->key);
      if (v.value("kind", "") == "gateway") {
        // The set's gateway index goes with the last host that used the gateway.
        const std::string index = gateway_key(set);
        const std::string addr = kv->key.substr(kv->key.rfind('/') + 1);
        gateway_index.emplace();
        gateway_index->compare.push_back(
            {index, Compare::Target::Value, Compare::Result::Equal, 0, addr});
        gateway_index->success.push_back(Op::erase(index));
      }
    } else {
      v["holders"] = kept;
      plan.put(kv->key, v.dump());
    }
    etcd::Txn t = plan.txn();
    if (gateway_index) t.success.push_back(Op::nested(std::move(*gateway_index)));
    return Attempt<bool>::commit(std::move(t), kv->key, true);
  };
  if (auto dropped = retry<bool>(etcd_, first, decide)) return *dropped;
  throw etcd_records::kept_changing("the shared reservation " + first.key, "release it");
}

bool EtcdPoolStore::release_address(const std::string& pool_id, const Address& address) {
  try {
    auto lp = local(pool_id);
    if (!lp) return false;
    const Pool& pool = lp->pool;
    if (!pool.subnet.contains(address)) throw released_outside(pool, address);
    const std::string set = set_of(pool);
    const std::string key = address_key(set, address);
    auto decide = [&](const MaybeKv& kv, int) -> Attempt<bool> {
      if (!kv) return Attempt<bool>::done(false);
      const json v = parse_value(*kv);
      if (v.value("shared", false))
        return Attempt<bool>::done(drop_holder(set, *kv, host_, pool_id));
      if (v.value("host", "") != host_ || v.value("pool", "") != pool_id) {
        throw conflict("Address " + address.str() + " is held by host " +
                       v.value("host", std::string("?")) + " through pool " +
                       v.value("pool", std::string("?")) + ", not by pool " + pool_id +
                       " of host " + host_ + "; nothing was released");
      }
      TxnPlan plan;
      plan.expect(*kv);
      switch (sticky::on_release(binding_in(v, address))) {
        case sticky::Release::Nothing: return Attempt<bool>::done(false);
        case sticky::Release::Park: {
          json parked = v;
          parked["parked"] = etcd_records::now_ms();
          parked.erase("endpoint");
          plan.put(key, parked.dump());
          break;
        }
        case sticky::Release::Free: plan.erase(key); break;
      }
      return Attempt<bool>::commit(plan.txn(), key, true);
    };
    return retry<bool>(etcd_, read_one(etcd_, key), decide).value_or(false);
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    throw undone(e, "the address is still held; release it again");
  }
}

void EtcdPoolStore::record_endpoint(const Address& address, const std::string& endpoint_id,
                                    const std::string& mac) {
  try {
    std::set<std::string> sets;  // of this host's pools that could have granted it
    {
      std::lock_guard<std::mutex> lock(mutex_);
      load_pools();
      for (const auto& [id, lp] : pools_) {
        if (lp.pool.subnet.contains(address)) sets.insert(set_of(lp.pool));
      }
    }
    for (const auto& set : sets) {
      const std::string key = address_key(set, address);
      auto decide = [&](const MaybeKv& kv, int) -> Attempt<bool> {
        if (!kv) return Attempt<bool>::done(false);
        json v = parse_value(*kv);
        if (v.value("shared", false) || v.value("host", "") != host_ || v.contains("parked")) {
          // parked: no endpoint holds it any more (and its revision orders eviction)
          return Attempt<bool>::done(false);
        }
        const std::string granted_to = v.value("mac", "");
        if (!granted_to.empty() && !mac.empty() && !same_mac(granted_to, mac)) {
          return Attempt<bool>::done(false);
        }
        if (v.value("endpoint", "") == endpoint_id) return Attempt<bool>::done(false);
        v["endpoint"] = endpoint_id;
        // Only if unchanged since read: a release in between deleted the key, and a plain put
        // would bring the grant back to life with nobody left to release it.
        TxnPlan plan;
        plan.expect(*kv);
        plan.put(key, v.dump());
        return Attempt<bool>::commit(plan.txn(), key, true);
      };
      retry<bool>(etcd_, read_one(etcd_, key), decide);
    }
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    throw undone(e, "the address stays granted, without its endpoint ID");
  }
}

}  // namespace mvlan::ipam

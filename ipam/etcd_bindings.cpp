// Sticky bindings in etcd (README "Sticky addresses"): a bound grant's record carries its "name"
// and, once released, "parked"; names/<host>/<pool id>/<name> points at it. The rules are
// ipam/sticky.h's, shared with the SQLite store; this file applies them as etcd transactions.

#include "common/error.h"
#include "common/quote.h"
#include "ipam/etcd_pool_store.h"
#include "ipam/pool_errors.h"
#include "ipam/sticky.h"

namespace mvlan::ipam {

using namespace etcd_records;  // the store's key, record and transaction helpers

std::string EtcdPoolStore::name_key(const std::string& host, const std::string& pool_id,
                                    const std::string& name) const {
  return prefix_ + "names/" + host + "/" + pool_id + "/" + name;
}

std::optional<EtcdPoolStore::Bound> EtcdPoolStore::find_binding(const Pool& pool,
                                                                const std::string& name) {
  auto index = etcd_.range(name_key(host_, pool.id, name)).kvs;
  if (index.empty()) return std::nullopt;
  Bound b;
  b.index = index[0];
  const auto a = from_hex(b.index.value);
  if (!a || !pool.subnet.contains(*a)) return b;
  b.record.key = address_key(set_of(pool), *a);
  if (auto kvs = etcd_.range(b.record.key).kvs; !kvs.empty()) {
    b.record = kvs[0];
    const json v = parse_value(b.record);
    b.grant = v.value("grant", "");
    if (v.value("host", "") == host_ && v.value("pool", "") == pool.id &&
        v.value("name", "") == name) {
      b.binding = binding_in(v, *a);
    }
  }
  return b;
}

void EtcdPoolStore::bind_name(TxnPlan& plan, const Pool& pool, const std::string& name,
                              const std::optional<Bound>& before, const Address& to) {
  const std::string index = name_key(host_, pool.id, name);
  if (!before) {
    plan.expect_absent(index);
  } else {
    plan.expect(before->index);
    if (!before->record.key.empty()) plan.expect(before->record);
    switch (sticky::previous(before->binding, to)) {
      case sticky::Previous::Freed: plan.erase(before->record.key); break;
      case sticky::Previous::Unnamed: {
        json v = parse_value(before->record);
        v.erase("name");
        plan.put(before->record.key, v.dump());
        break;
      }
      case sticky::Previous::Stays: break;
    }
  }
  plan.put(index, hex(to));
}

void EtcdPoolStore::unbind(TxnPlan& plan, const etcd::KeyValue& record) const {
  plan.expect(record);
  const json v = parse_value(record);
  if (const std::string name = v.value("name", ""); !name.empty()) {
    plan.erase(name_key(v.value("host", ""), v.value("pool", ""), name));
  }
}

bool EtcdPoolStore::unpark(const Bound& mine, const std::string& mac, const std::string& token) {
  json v = parse_value(mine.record);
  v.erase("parked");
  v.erase("endpoint");  // the new endpoint's host records it after CreateEndpoint
  v["mac"] = mac;
  v["grant"] = token;
  v["at"] = etcd_records::now_text();
  TxnPlan plan;
  plan.expect(mine.index);
  plan.expect(mine.record);
  plan.put(mine.record.key, v.dump());
  etcd::Txn t = plan.txn();
  t.failure.push_back(etcd::Op::range(mine.record.key));
  const auto r = etcd_.txn(t);
  return r.succeeded || etcd_records::committed(r, token);
}

std::optional<etcd::KeyValue> EtcdPoolStore::oldest_parked(const std::string& set,
                                                           const Bounds& within) {
  const std::string dir = prefix_ + "addr/" + set + "/";
  MaybeKv oldest;
  auto visit = [&](const etcd::KeyValue& kv) {
    if (kv.value.find("\"parked\"") == std::string::npos) return true;  // most are not: no parse
    if (!parse_value(kv).contains("parked")) return true;
    if (!oldest || kv.mod_revision < oldest->mod_revision) oldest = kv;
    return true;
  };
  etcd_records::for_each_key(etcd_, dir + hex(within.lo), dir + hex(within.hi) + '\0', visit);
  return oldest;
}

Address EtcdPoolStore::forget(const std::string& pool_id, const std::string& name) {
  auto lp = local(pool_id);
  if (!lp) throw unknown_pool(pool_id);
  auto decide = [&](const MaybeKv&, int) {
    const auto mine = find_binding(lp->pool, name);
    const Binding b =
        sticky::forgettable(lp->pool, name, mine ? mine->binding : std::optional<Binding>());
    TxnPlan plan;
    plan.expect(mine->index);
    plan.expect(mine->record);
    plan.erase(mine->index.key);
    plan.erase(mine->record.key);
    return etcd_records::Attempt<Address>::commit(plan.txn(), mine->record.key, b.address);
  };
  if (auto forgot = etcd_records::retry<Address>(etcd_, std::nullopt, decide)) return *forgot;
  throw Error(ErrorKind::Store,
              "etcd: the binding of " + quote(name, 120) + " kept changing; try again");
}

}  // namespace mvlan::ipam

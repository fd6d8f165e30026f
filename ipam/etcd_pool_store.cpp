#include "ipam/etcd_pool_store.h"

#include <algorithm>
#include <cctype>
#include <ctime>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

#include "common/error.h"
#include "ipam/pool_errors.h"
#include "ipam/sticky.h"

namespace mvlan::ipam {
namespace {

using json = nlohmann::json;
using etcd::Compare;
using etcd::Op;
using etcd_records::binding_in;
using etcd_records::committed;
using etcd_records::from_hex;
using etcd_records::hex;
using etcd_records::kMaxAttempts;
using etcd_records::nonce;
using etcd_records::now_text;
using etcd_records::parse_value;
using etcd_records::TxnPlan;

constexpr size_t kPage = 256;
// Docker asks for a network's --aux-address right after RequestPool, before any container can
// exist; a specific address without MAC asked this early is taken as aux and shared by the hosts
// (which all create the same network), later ones as a container's --ip, which is exclusive.
constexpr auto kSetupWindow = std::chrono::seconds(5);
// etcd allows 128 operations per transaction by default: a record and its binding's index each.
constexpr size_t kRecordsPerTxn = 60;

std::mt19937_64& rng() {
  thread_local std::mt19937_64 g{std::random_device{}()};
  return g;
}

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

// Docker writes MACs in lowercase, a user's --mac-address may not be.
bool same_mac(const std::string& a, const std::string& b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

std::string no_quorum(const Error& e, const std::string& what) {
  return std::string(e.what()) + "; " + what;
}

}  // namespace

// A dynamic grant's place among those this host has in flight: 0 when alone.
struct EtcdPoolStore::InFlight {
  explicit InFlight(std::atomic<size_t>& counter)
      : counter_(counter), index(counter.fetch_add(1) % 64) {}
  ~InFlight() { counter_.fetch_sub(1); }
  std::atomic<size_t>& counter_;
  const size_t index;
};

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

std::string EtcdPoolStore::describe_holder(const etcd::KeyValue& kv) const {
  const json v = parse_value(kv);
  if (v.value("shared", false)) {
    return std::string(v.value("kind", "") == "gateway" ? "the gateway" : "an aux address") +
           " shared by the hosts";
  }
  std::string s = "a " + v.value("kind", std::string("dynamic")) + " address of host " +
                  v.value("host", std::string("?"));
  if (const std::string ep = v.value("endpoint", ""); !ep.empty()) {
    s += ", endpoint " + ep.substr(0, 12);
  }
  if (const std::string mac = v.value("mac", ""); !mac.empty()) s += ", endpoint MAC " + mac;
  return s + ", pool " + v.value("pool", std::string("?"));
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
                     c->first + "; hosts share addresses only for the very same --subnet, so "
                     "give " + c->second.subnet.str() + " on this host too");
    }

    Pool pool;
    pool.id = unique_pool_id(spec, subnet,
                             [&](const std::string& id) { return pools_.count(id) > 0; });
    pool.address_space = spec.address_space;
    pool.subnet = subnet;
    pool.range = spec.range;
    pool.order = spec.order;
    pool.sticky = spec.sticky;
    const json record{{"space", pool.address_space},
                      {"subnet", subnet.str()},
                      {"range", pool.range ? pool.range->str() : ""},
                      {"allocation", name_of(pool.order)},
                      {"sticky", pool.sticky}};
    etcd_.put(prefix_ + "pools/" + host_ + "/" + pool.id, record.dump());
    pools_[pool.id] = LocalPool{pool, std::chrono::steady_clock::now()};
    return pool;
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    throw Error(ErrorKind::Store, no_quorum(e, "no pool was created"));
  }
}

bool EtcdPoolStore::drop_holder(const std::string& set, const etcd::KeyValue& first,
                                const std::string& host, const std::string& pool_id) {
  etcd::KeyValue kv = first;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    json v = parse_value(kv);
    json kept = json::array();
    bool found = false;
    for (const auto& h : v.value("holders", json::array())) {
      if (h.size() == 2 && h[0] == host && h[1] == pool_id) {
        found = true;
      } else {
        kept.push_back(h);
      }
    }
    if (!found) return false;
    etcd::Txn t;
    t.compare.push_back({kv.key, Compare::Target::Mod, Compare::Result::Equal, kv.mod_revision, ""});
    if (kept.empty()) {
      t.success.push_back(Op::erase(kv.key));
      if (v.value("kind", "") == "gateway") {
        // The set's gateway index goes with the last host that used the gateway.
        const std::string index = prefix_ + "gateway/" + set;
        const std::string addr = kv.key.substr(kv.key.rfind('/') + 1);
        etcd::Txn inner;
        inner.compare.push_back({index, Compare::Target::Value, Compare::Result::Equal, 0, addr});
        inner.success.push_back(Op::erase(index));
        t.success.push_back(Op::nested(std::move(inner)));
      }
    } else {
      v["holders"] = kept;
      t.success.push_back(Op::put(kv.key, v.dump()));
    }
    t.failure.push_back(Op::range(kv.key));
    auto r = etcd_.txn(t);
    if (r.succeeded) return true;
    if (r.ranges.empty() || r.ranges[0].kvs.empty()) return false;
    kv = r.ranges[0].kvs[0];
  }
  throw Error(ErrorKind::Store, "etcd: the shared reservation " + kv.key +
                                    " kept changing under " + std::to_string(kMaxAttempts) +
                                    " attempts to release it; try again");
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
    std::string from = dir;
    std::vector<etcd::KeyValue> mine;
    for (;;) {
      auto page = etcd_.range(from, etcd::prefix_end(dir), 1000);
      for (const auto& kv : page.kvs) {
        const json v = parse_value(kv);
        if (v.value("shared", false)) {
          drop_holder(set, kv, host_, pool_id);
        } else if (v.value("host", "") == host_ && v.value("pool", "") == pool_id) {
          mine.push_back(kv);
        }
      }
      if (!page.more || page.kvs.empty()) break;
      from = page.kvs.back().key + '\0';
    }
    erase_records(mine);
    etcd::Txn drop;
    drop.success.push_back(Op::erase(prefix_ + "pools/" + host_ + "/" + pool_id));
    etcd_.txn(drop);
    pools_.erase(pool_id);
    return true;
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    throw Error(ErrorKind::Store, no_quorum(e, "the pool is still held; release it again"));
  }
}

std::optional<Address> EtcdPoolStore::nth_free(const std::string& set, const Address& from,
                                               const Address& to, size_t skip) {
  if (to < from) return std::nullopt;
  const std::string dir = prefix_ + "addr/" + set + "/";
  const Family family = from.family();
  u128 expect = from.value();
  const u128 last = to.value();
  size_t seen = 0;
  // Free addresses in [expect, below): the skip-th one, if it lies there.
  auto free_between = [&](u128 below) -> std::optional<Address> {
    if (below <= expect) return std::nullopt;
    const u128 count = below - expect;
    if (count > skip - seen) return Address::of(family, expect + (skip - seen));
    seen += static_cast<size_t>(count);
    return std::nullopt;
  };
  for (;;) {
    auto page = etcd_.range(dir + hex(Address::of(family, expect)), dir + hex(to) + '\0', kPage,
                            true);
    for (const auto& kv : page.kvs) {
      auto a = from_hex(kv.key.substr(dir.size()));
      if (!a || a->value() < expect) continue;
      if (auto hit = free_between(a->value())) return hit;
      if (a->value() == last) return std::nullopt;
      expect = a->value() + 1;
    }
    if (!page.more || page.kvs.empty()) {
      // Everything in [expect, last] is free.
      if (last - expect >= skip - seen) return Address::of(family, expect + (skip - seen));
      return std::nullopt;
    }
  }
}

json EtcdPoolStore::grant_record(const Pool& pool, GrantKind kind, const AddressRequest& request,
                                 const std::string& token) const {
  json record{{"host", host_},      {"pool", pool.id}, {"kind", name_of(kind)},
              {"mac", request.mac}, {"grant", token},  {"at", now_text()}};
  if (sticky::binds(pool, request)) record["name"] = request.name;
  return record;
}

Cidr EtcdPoolStore::grant_exclusive(const Pool& pool, const Address& a, GrantKind kind,
                                    const AddressRequest& request) {
  const std::string key = address_key(set_of(pool), a);
  const std::string token = nonce();
  const bool bind = sticky::binds(pool, request);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    const auto current = etcd_.range(key).kvs;
    const auto mine = bind ? find_binding(pool, request.name) : std::nullopt;
    TxnPlan plan;
    if (current.empty()) {
      plan.expect_absent(key);
    } else {
      const auto& kv = current[0];
      const json v = parse_value(kv);
      if (v.value("grant", "") == token) return Cidr{a, pool.subnet.length()};
      if (!sticky::may_take(binding_in(v, a))) {
        throw address_in_use(pool, a, describe_holder(kv));
      }
      unbind(plan, kv);
    }
    plan.put(key, grant_record(pool, kind, request, token).dump());
    if (bind) bind_name(plan, pool, request.name, mine, a);
    etcd::Txn t = plan.txn();
    t.failure.push_back(Op::range(key));
    const auto r = etcd_.txn(t);
    if (r.succeeded || committed(r, token)) return Cidr{a, pool.subnet.length()};
  }
  throw Error(ErrorKind::Store, "etcd: address " + a.str() + " kept changing under " +
                                    std::to_string(kMaxAttempts) +
                                    " attempts to grant it; try again");
}

Cidr EtcdPoolStore::grant_shared(const Pool& pool, const Address& a, GrantKind kind,
                                 bool with_gateway_index) {
  const std::string set = set_of(pool);
  const std::string key = address_key(set, a);
  const json me = json::array({host_, pool.id});
  auto current = etcd_.range(key).kvs;
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    TxnPlan plan;
    std::optional<etcd::Txn> gateway_index;
    json v = current.empty() ? json() : parse_value(current[0]);
    if (!current.empty() && v.value("shared", false)) {
      if (v.value("kind", "") != name_of(kind)) {
        throw address_in_use(pool, a, describe_holder(current[0]));
      }
      for (const auto& h : v["holders"]) {
        if (h == me) return Cidr{a, pool.subnet.length()};
      }
      v["holders"].push_back(me);
      plan.expect(current[0]);
      plan.put(key, v.dump());
    } else {
      if (current.empty()) {
        plan.expect_absent(key);
      } else if (sticky::may_take(binding_in(v, a))) {
        unbind(plan, current[0]);
      } else {
        throw address_in_use(pool, a, describe_holder(current[0]));
      }
      const json record{{"shared", true},
                        {"kind", name_of(kind)},
                        {"holders", json::array({me})},
                        {"at", now_text()}};
      plan.put(key, record.dump());
      if (with_gateway_index) {
        const std::string index = prefix_ + "gateway/" + set;
        etcd::Txn inner;
        inner.compare.push_back({index, Compare::Target::Create, Compare::Result::Equal, 0, ""});
        inner.success.push_back(Op::put(index, hex(a)));
        gateway_index = std::move(inner);
      }
    }
    etcd::Txn t = plan.txn();
    if (gateway_index) t.success.push_back(Op::nested(std::move(*gateway_index)));
    t.failure.push_back(Op::range(key));
    auto r = etcd_.txn(t);
    if (r.succeeded) return Cidr{a, pool.subnet.length()};
    current = r.ranges.empty() ? std::vector<etcd::KeyValue>{} : r.ranges[0].kvs;
  }
  throw Error(ErrorKind::Store, "etcd: address " + a.str() + " kept changing under " +
                                    std::to_string(kMaxAttempts) +
                                    " attempts to reserve it; try again");
}

Cidr EtcdPoolStore::grant_dynamic(const Pool& pool, const AddressRequest& request) {
  const auto bounds = dynamic_bounds(pool);
  auto exhausted = [&] {
    return pool_full(pool, bounds, " on every host");
  };
  if (!bounds) throw exhausted();
  const bool bind = sticky::binds(pool, request);
  const std::string set = set_of(pool);
  const std::string cursor_key =
      prefix_ + "cursor/" + set + "/" + hex(bounds->lo) + "-" + hex(bounds->hi);
  const std::string token = nonce();
  const InFlight slot(in_flight_);
  for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
    std::optional<Bound> mine;
    if (bind) {
      mine = find_binding(pool, request.name);
      if (mine && mine->binding && mine->grant == token) {
        return Cidr{mine->binding->address, pool.subnet.length()};  // ours, answer lost
      }
      if (auto back = sticky::returned(mine ? mine->binding : std::nullopt)) {
        if (unpark(*mine, request.mac, token)) return Cidr{*back, pool.subnet.length()};
        continue;
      }
    }
    unsigned long long epoch = 0;
    std::optional<Address> cursor;
    if (auto kvs = etcd_.range(cursor_key).kvs; !kvs.empty()) {
      const std::string& v = kvs[0].value;
      const auto slash = v.find('/');
      if (slash != std::string::npos) {
        epoch = std::stoull(v.substr(0, slash), nullptr, 16);
        cursor = from_hex(v.substr(slash + 1));
      }
    }
    Address start = bounds->lo;
    if (pool.order == AllocationOrder::RoundRobin && cursor && *cursor >= bounds->lo &&
        *cursor < bounds->hi) {
      start = cursor->next();
    }
    // Concurrent requests read the same cursor and chase the same address: those of this host
    // each take a different free address after it (their slot), and after a lost race (to
    // another host) one at random among the next few, so that most of them win the next round.
    const size_t spread =
        slot.index + (attempt == 0 ? 0
                                   : static_cast<size_t>(rng()() % std::min<size_t>(64, 2u << attempt)));
    std::optional<Address> a;
    bool wrapped = false;
    for (size_t skip : {spread, size_t{0}}) {
      a = nth_free(set, start, bounds->hi, skip);
      if (!a && start > bounds->lo) {
        a = nth_free(set, bounds->lo, start.prev(), skip);
        wrapped = a.has_value();
      }
      if (a || skip == 0) break;
    }

    TxnPlan plan;
    std::optional<etcd::Txn> advance;
    std::string key;
    if (a) {
      key = address_key(set, *a);
      plan.expect_absent(key);
      char epoch_text[17];
      std::snprintf(epoch_text, sizeof epoch_text, "%016llx", epoch + (wrapped ? 1 : 0));
      const std::string next_cursor = std::string(epoch_text) + "/" + hex(*a);
      // The cursor only moves forward (epoch, then address), so a slow host's late grant never
      // drags it back over addresses that were just released.
      advance.emplace();
      advance->compare.push_back(
          {cursor_key, Compare::Target::Value, Compare::Result::Less, 0, next_cursor});
      advance->success.push_back(Op::put(cursor_key, next_cursor));
      etcd::Txn create;
      create.compare.push_back(
          {cursor_key, Compare::Target::Create, Compare::Result::Equal, 0, ""});
      create.success.push_back(Op::put(cursor_key, next_cursor));
      advance->failure.push_back(Op::nested(std::move(create)));
    } else {
      // Parking never makes a pool run out: with no address free, the one parked longest goes.
      const auto oldest = oldest_parked(set, *bounds);
      if (!oldest) throw exhausted();
      key = oldest->key;
      a = from_hex(key.substr(key.rfind('/') + 1));
      if (!a) throw Error(ErrorKind::Store, "etcd holds a malformed address key " + key);
      unbind(plan, *oldest);
    }
    plan.put(key, grant_record(pool, GrantKind::Dynamic, request, token).dump());
    if (bind) bind_name(plan, pool, request.name, mine, *a);
    etcd::Txn t = plan.txn();
    if (advance) t.success.push_back(Op::nested(std::move(*advance)));
    t.failure.push_back(Op::range(key));
    auto r = etcd_.txn(t);
    if (r.succeeded || committed(r, token)) return Cidr{*a, pool.subnet.length()};
  }
  throw Error(ErrorKind::Store, "etcd: no address could be granted in " + describe(pool) +
                                    " after " + std::to_string(kMaxAttempts) +
                                    " attempts: other requests took every address picked; "
                                    "try again");
}

Cidr EtcdPoolStore::request_address(const std::string& pool_id, const AddressRequest& request) {
  try {
    auto lp = local(pool_id);
    if (!lp) throw unknown_pool_id(pool_id);
    const Pool& pool = lp->pool;
    if (request.address) {
      const Address& a = *request.address;
      check_requested(pool, a);
      if (request.gateway) return grant_shared(pool, a, GrantKind::Gateway, true);
      // Docker names containers' requests (engines >= 29), never an aux address.
      if (request.mac.empty() && request.name.empty() &&
          std::chrono::steady_clock::now() - lp->created < kSetupWindow) {
        return grant_shared(pool, a, GrantKind::Static, false);
      }
      return grant_exclusive(pool, a, GrantKind::Static, request);
    }
    if (request.gateway) {
      // The first host picks the set's gateway; every other host shares that one.
      const std::string index = prefix_ + "gateway/" + set_of(pool);
      for (int attempt = 0; attempt < kMaxAttempts; ++attempt) {
        std::optional<Address> a;
        if (auto kvs = etcd_.range(index).kvs; !kvs.empty()) a = from_hex(kvs[0].value);
        if (!a || !pool.subnet.contains(*a)) {
          if (auto range = dynamic_bounds(pool)) a = nth_free(set_of(pool), range->lo, range->hi, 0);
          if (!a) {
            if (auto usable = usable_bounds(pool.subnet)) {
              a = nth_free(set_of(pool), usable->lo, usable->hi, 0);
            }
          }
          if (!a) throw no_gateway_address(pool);
        }
        try {
          return grant_shared(pool, *a, GrantKind::Gateway, true);
        } catch (const Error& e) {
          if (e.kind != ErrorKind::Conflict) throw;  // taken by a container meanwhile: pick again
        }
      }
      throw Error(ErrorKind::Store, "etcd: no gateway could be reserved in " + describe(pool) +
                                        "; try again");
    }
    return grant_dynamic(pool, request);
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    throw Error(ErrorKind::Store, no_quorum(e, "no address was allocated"));
  }
}

bool EtcdPoolStore::release_address(const std::string& pool_id, const Address& address) {
  try {
    auto lp = local(pool_id);
    if (!lp) return false;
    const Pool& pool = lp->pool;
    if (!pool.subnet.contains(address)) throw released_outside(pool, address);
    const std::string set = set_of(pool);
    const std::string key = address_key(set, address);
    auto kvs = etcd_.range(key).kvs;
    for (int attempt = 0; attempt < kMaxAttempts && !kvs.empty(); ++attempt) {
      const auto kv = kvs[0];
      const json v = parse_value(kv);
      if (v.value("shared", false)) return drop_holder(set, kv, host_, pool_id);
      if (v.value("host", "") != host_ || v.value("pool", "") != pool_id) {
        throw conflict("Address " + address.str() + " is held by host " +
                       v.value("host", std::string("?")) + " through pool " +
                       v.value("pool", std::string("?")) + ", not by pool " + pool_id +
                       " of host " + host_ + "; nothing was released");
      }
      etcd::Txn t;
      t.compare.push_back({key, Compare::Target::Mod, Compare::Result::Equal, kv.mod_revision, ""});
      switch (sticky::on_release(binding_in(v, address))) {
        case sticky::Release::Nothing:
          return false;
        case sticky::Release::Park: {
          json parked = v;
          parked["parked"] = etcd_records::now_ms();
          parked.erase("endpoint");
          t.success.push_back(Op::put(key, parked.dump()));
          break;
        }
        case sticky::Release::Free:
          t.success.push_back(Op::erase(key));
          break;
      }
      t.failure.push_back(Op::range(key));
      auto r = etcd_.txn(t);
      if (r.succeeded) return true;
      kvs = r.ranges.empty() ? std::vector<etcd::KeyValue>{} : r.ranges[0].kvs;
    }
    return false;
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    throw Error(ErrorKind::Store, no_quorum(e, "the address is still held; release it again"));
  }
}

std::optional<Pool> EtcdPoolStore::find_pool(const std::string& pool_id) {
  auto lp = local(pool_id);
  if (!lp) return std::nullopt;
  return lp->pool;
}

std::vector<PoolStatus> EtcdPoolStore::status() {
  std::vector<Pool> mine;
  {
    std::lock_guard<std::mutex> lock(mutex_);
    load_pools();
    for (const auto& [id, lp] : pools_) mine.push_back(lp.pool);
  }
  const auto cluster = cluster_status();
  std::vector<PoolStatus> out;
  for (const auto& pool : mine) {
    PoolStatus ps{pool, {}, std::nullopt, capacity(dynamic_bounds(pool)), {}};
    for (const auto& set : cluster.sets) {
      if (set.space != pool.address_space || !(set.subnet == pool.subnet)) continue;
      for (const auto& g : set.grants) {
        for (const auto& [h, p] : g.holders) {
          if (h == host_ && p == pool.id) {
            ps.allocations.push_back(Allocation{g.address, pool.id, g.kind, g.mac});
            if (!g.name.empty()) ps.bindings.push_back(Binding{g.name, g.address, g.parked_at});
            break;
          }
        }
      }
    }
    std::sort(ps.bindings.begin(), ps.bindings.end(),
              [](const Binding& x, const Binding& y) { return x.name < y.name; });
    if (auto bounds = dynamic_bounds(pool)) {
      auto kvs = etcd_.range(prefix_ + "cursor/" + set_of(pool) + "/" + hex(bounds->lo) + "-" +
                             hex(bounds->hi))
                     .kvs;
      if (!kvs.empty()) ps.cursor = from_hex(kvs[0].value.substr(kvs[0].value.find('/') + 1));
    }
    out.push_back(std::move(ps));
  }
  return out;
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
      auto kvs = etcd_.range(key).kvs;
      for (int attempt = 0; attempt < kMaxAttempts && !kvs.empty(); ++attempt) {
        const auto kv = kvs[0];
        json v = parse_value(kv);
        if (v.value("shared", false) || v.value("host", "") != host_ || v.contains("parked")) {
          break;  // parked: no endpoint holds it any more (and its revision orders eviction)
        }
        const std::string granted_to = v.value("mac", "");
        if (!granted_to.empty() && !mac.empty() && !same_mac(granted_to, mac)) break;
        if (v.value("endpoint", "") == endpoint_id) break;
        v["endpoint"] = endpoint_id;
        // Only if unchanged since read: a release in between deleted the key, and a plain put
        // would bring the grant back to life with nobody left to release it.
        etcd::Txn t;
        t.compare.push_back(
            {key, Compare::Target::Mod, Compare::Result::Equal, kv.mod_revision, ""});
        t.success.push_back(Op::put(key, v.dump()));
        t.failure.push_back(Op::range(key));
        auto r = etcd_.txn(t);
        if (r.succeeded) break;
        kvs = r.ranges.empty() ? std::vector<etcd::KeyValue>{} : r.ranges[0].kvs;
      }
    }
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    const std::string what = "the address stays granted, without its endpoint ID";
    throw Error(ErrorKind::Store, no_quorum(e, what));
  }
}

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
  std::string from = dir;
  for (;;) {
    auto page = etcd_.range(from, etcd::prefix_end(dir), 1000);
    for (const auto& kv : page.kvs) {
      // addr/<space>/<network hex>-<length>/<address hex>
      const std::string rest = kv.key.substr(dir.size());
      const auto s1 = rest.find('/');
      const auto dash = rest.find('-', s1);
      const auto s2 = rest.rfind('/');
      if (s1 == std::string::npos || dash == std::string::npos || s2 <= dash) continue;
      auto network = from_hex(rest.substr(s1 + 1, dash - s1 - 1));
      auto a = from_hex(rest.substr(s2 + 1));
      const std::string length = rest.substr(dash + 1, s2 - dash - 1);
      if (!network || !a || length.empty() || length.size() > 3 ||
          length.find_first_not_of("0123456789") != std::string::npos) {
        continue;
      }
      const json v = parse_value(kv);
      ClusterGrant g;
      g.address = *a;
      g.kind = parse_grant_kind(v.value("kind", "")).value_or(GrantKind::Dynamic);
      g.shared = v.value("shared", false);
      g.mac = v.value("mac", "");
      g.endpoint = v.value("endpoint", "");
      if (const auto b = binding_in(v, *a)) {
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
      set_for(rest.substr(0, s1), Prefix::of(*network, std::stoi(length)))
          .grants.push_back(std::move(g));
    }
    if (!page.more || page.kvs.empty()) break;
    from = page.kvs.back().key + '\0';
  }
  return out;
}

bool EtcdPoolStore::host_alive(const std::string& host) {
  return !etcd_.range(prefix_ + "hosts/" + host).kvs.empty();
}

size_t EtcdPoolStore::release_host(const std::string& host) {
  const std::string dir = prefix_ + "addr/";
  std::vector<etcd::KeyValue> held;
  std::string from = dir;
  for (;;) {
    auto page = etcd_.range(from, etcd::prefix_end(dir), 1000);
    for (const auto& kv : page.kvs) {
      const json v = parse_value(kv);
      if (!v.value("shared", false) && v.value("host", "") == host) held.push_back(kv);
    }
    if (!page.more || page.kvs.empty()) break;
    from = page.kvs.back().key + '\0';
  }
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

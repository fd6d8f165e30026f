// The etcd store's grants: an address is granted by a transaction that succeeds only while its
// key is as read, so two hosts never hold one address. Exclusive grants (a container's address)
// name one host and pool; shared ones (gateways, aux addresses, which every host creating the
// network asks for) list their holders.

#include <nlohmann/json.hpp>
#include <random>

#include "common/error.h"
#include "ipam/etcd_pool_store.h"
#include "ipam/pool_errors.h"
#include "ipam/sticky.h"

namespace mvlan::ipam {
namespace {

using namespace etcd_records;  // the store's key, record and transaction helpers

constexpr long long kPage = 256;
// Docker asks for a network's --aux-address right after RequestPool, before any container can
// exist; a specific address without MAC asked this early is taken as aux and shared by the hosts
// (which all create the same network), later ones as a container's --ip, which is exclusive.
constexpr auto kSetupWindow = std::chrono::seconds(5);

std::mt19937_64& rng() {
  thread_local std::mt19937_64 g{std::random_device{}()};
  return g;
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

std::optional<Address> EtcdPoolStore::nth_free(const std::string& set, const Address& from,
                                               const Address& to, size_t skip) {
  if (to < from) return std::nullopt;
  const std::string dir = prefix_ + "addr/" + set + "/";
  const Family family = from.family();
  u128 expect = from.value();
  const u128 last = to.value();
  size_t seen = 0;
  std::optional<Address> hit;
  bool last_taken = false;
  // Free addresses in [expect, below): the skip-th one, if it lies there.
  auto free_between = [&](u128 below) -> std::optional<Address> {
    if (below <= expect) return std::nullopt;
    const u128 count = below - expect;
    if (count > skip - seen) return Address::of(family, expect + (skip - seen));
    seen += static_cast<size_t>(count);
    return std::nullopt;
  };
  auto visit = [&](const etcd::KeyValue& kv) {
    auto a = from_hex(kv.key.substr(dir.size()));
    if (!a || a->value() < expect) return true;
    hit = free_between(a->value());
    last_taken = a->value() == last;
    if (hit || last_taken) return false;
    expect = a->value() + 1;
    return true;
  };
  for_each_key(etcd_, dir + hex(from), dir + hex(to) + '\0', visit, kPage, true);
  if (hit || last_taken) return hit;
  // Everything in [expect, last] is free.
  if (last - expect >= skip - seen) return Address::of(family, expect + (skip - seen));
  return std::nullopt;
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
  const Cidr granted{a, pool.subnet.length()};
  auto decide = [&](const MaybeKv&, int) -> Attempt<Cidr> {
    const auto current = read_one(etcd_, key);
    const auto mine = bind ? find_binding(pool, request.name) : std::nullopt;
    TxnPlan plan;
    if (!current) {
      plan.expect_absent(key);
    } else {
      const json v = parse_value(*current);
      if (v.value("grant", "") == token) return Attempt<Cidr>::done(granted);
      if (!sticky::may_take(binding_in(v, a))) {
        throw address_in_use(pool, a, describe_holder(*current));
      }
      unbind(plan, *current);
    }
    plan.put(key, grant_record(pool, kind, request, token).dump());
    if (bind) bind_name(plan, pool, request.name, mine, a);
    return Attempt<Cidr>::commit(plan.txn(), key, granted, token);
  };
  if (auto done = retry<Cidr>(etcd_, std::nullopt, decide)) return *done;
  throw kept_changing("address " + a.str(), "grant it");
}

Cidr EtcdPoolStore::grant_shared(const Pool& pool, const Address& a, GrantKind kind,
                                 bool with_gateway_index) {
  const std::string set = set_of(pool);
  const std::string key = address_key(set, a);
  const json me = json::array({host_, pool.id});
  const Cidr granted{a, pool.subnet.length()};
  auto decide = [&](const MaybeKv& current, int) -> Attempt<Cidr> {
    TxnPlan plan;
    std::optional<etcd::Txn> gateway_index;
    json v = current ? parse_value(*current) : json();
    if (current && v.value("shared", false)) {
      if (v.value("kind", "") != name_of(kind)) {
        throw address_in_use(pool, a, describe_holder(*current));
      }
      for (const auto& h : v["holders"]) {
        if (h == me) return Attempt<Cidr>::done(granted);
      }
      v["holders"].push_back(me);
      plan.expect(*current);
      plan.put(key, v.dump());
    } else {
      if (!current) {
        plan.expect_absent(key);
      } else if (sticky::may_take(binding_in(v, a))) {
        unbind(plan, *current);
      } else {
        throw address_in_use(pool, a, describe_holder(*current));
      }
      const json record{{"shared", true},
                        {"kind", name_of(kind)},
                        {"holders", json::array({me})},
                        {"at", now_text()}};
      plan.put(key, record.dump());
      if (with_gateway_index) {
        const std::string index = gateway_key(set);
        etcd::Txn inner;
        inner.compare.push_back({index, Compare::Target::Create, Compare::Result::Equal, 0, ""});
        inner.success.push_back(Op::put(index, hex(a)));
        gateway_index = std::move(inner);
      }
    }
    etcd::Txn t = plan.txn();
    if (gateway_index) t.success.push_back(Op::nested(std::move(*gateway_index)));
    return Attempt<Cidr>::commit(std::move(t), key, granted);
  };
  if (auto done = retry<Cidr>(etcd_, read_one(etcd_, key), decide)) return *done;
  throw kept_changing("address " + a.str(), "reserve it");
}

Cidr EtcdPoolStore::grant_gateway(const Pool& pool) {
  // The first host picks the set's gateway; every other host shares that one.
  const std::string set = set_of(pool);
  auto decide = [&](const MaybeKv&, int) -> Attempt<Cidr> {
    std::optional<Address> a;
    if (auto kv = read_one(etcd_, gateway_key(set))) a = from_hex(kv->value);
    if (!a || !pool.subnet.contains(*a)) {
      if (auto range = dynamic_bounds(pool)) a = nth_free(set, range->lo, range->hi, 0);
      if (!a) {
        if (auto usable = usable_bounds(pool.subnet)) a = nth_free(set, usable->lo, usable->hi, 0);
      }
      if (!a) throw no_gateway_address(pool);
    }
    try {
      return Attempt<Cidr>::done(grant_shared(pool, *a, GrantKind::Gateway, true));
    } catch (const Error& e) {
      if (e.kind != ErrorKind::Conflict) throw;  // taken by a container meanwhile: pick again
      return Attempt<Cidr>::again();
    }
  };
  if (auto done = retry<Cidr>(etcd_, std::nullopt, decide)) return *done;
  throw Error(ErrorKind::Store,
              "etcd: no gateway could be reserved in " + describe(pool) + "; try again");
}

Cidr EtcdPoolStore::grant_dynamic(const Pool& pool, const AddressRequest& request) {
  const auto bounds = dynamic_bounds(pool);
  auto exhausted = [&] { return pool_full(pool, bounds, " on every host"); };
  if (!bounds) throw exhausted();
  const bool bind = sticky::binds(pool, request);
  const std::string set = set_of(pool);
  const std::string cursor_at = cursor_key(set, *bounds);
  const std::string token = nonce();
  const InFlight slot(in_flight_);
  auto decide = [&](const MaybeKv&, int attempt) -> Attempt<Cidr> {
    std::optional<Bound> mine;
    if (bind) {
      mine = find_binding(pool, request.name);
      if (mine && mine->binding && mine->grant == token) {
        return Attempt<Cidr>::done(Cidr{mine->binding->address, pool.subnet.length()});  // ours
      }
      if (auto back = sticky::returned(mine ? mine->binding : std::nullopt)) {
        if (unpark(*mine, request.mac, token)) {
          return Attempt<Cidr>::done(Cidr{*back, pool.subnet.length()});
        }
        return Attempt<Cidr>::again();
      }
    }
    unsigned long long epoch = 0;
    std::optional<Address> cursor;
    if (auto kv = read_one(etcd_, cursor_at)) {
      const std::string& v = kv->value;
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
        slot.index +
        (attempt == 0 ? 0 : static_cast<size_t>(rng()() % std::min<size_t>(64, 2u << attempt)));
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
          {cursor_at, Compare::Target::Value, Compare::Result::Less, 0, next_cursor});
      advance->success.push_back(Op::put(cursor_at, next_cursor));
      etcd::Txn create;
      create.compare.push_back({cursor_at, Compare::Target::Create, Compare::Result::Equal, 0, ""});
      create.success.push_back(Op::put(cursor_at, next_cursor));
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
    return Attempt<Cidr>::commit(std::move(t), key, Cidr{*a, pool.subnet.length()}, token);
  };
  if (auto done = retry<Cidr>(etcd_, std::nullopt, decide)) return *done;
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
    if (request.gateway) return grant_gateway(pool);
    return grant_dynamic(pool, request);
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Store) throw;
    throw undone(e, "no address was allocated");
  }
}

}  // namespace mvlan::ipam

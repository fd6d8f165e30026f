#include "ipam/sqlite_pool_store.h"

#include <algorithm>

#include "common/error.h"
#include "ipam/allocator.h"
#include "ipam/pool_errors.h"
#include "ipam/sticky.h"

namespace mvlan::ipam {
namespace {

using store::Blob;
using store::column_bytes;
using store::rows;

int family_number(Family f) {
  return f == Family::V4 ? 4 : 6;
}

Pool pool_from(SQLite::Statement& s) {
  // Columns: id, space, subnet, ip_range, allocation, set_id, sticky
  Pool p;
  p.id = s.getColumn(0).getString();
  p.address_space = s.getColumn(1).getString();
  auto subnet = Prefix::parse(s.getColumn(2).getString());
  if (!subnet) throw Error(ErrorKind::Store, "state database holds a malformed pool " + p.id);
  p.subnet = *subnet;
  if (!s.getColumn(3).isNull()) p.range = Prefix::parse(s.getColumn(3).getString());
  p.order =
      parse_allocation_order(s.getColumn(4).getString()).value_or(AllocationOrder::RoundRobin);
  p.set_id = s.getColumn(5).getInt64();
  p.sticky = s.getColumn(6).getInt() != 0;
  return p;
}

std::optional<Binding> binding_of(const std::optional<PlacedBinding>& placed) {
  if (!placed) return std::nullopt;
  return placed->binding;
}

constexpr const char* kPoolColumns = "id, space, subnet, ip_range, allocation, set_id, sticky";

}  // namespace

SqlitePoolStore::SqlitePoolStore(store::Database& db, std::vector<DefaultPool> defaults)
    : db_(db), defaults_(std::move(defaults)), bindings_(db), sets_(db) {}

std::optional<Pool> SqlitePoolStore::load_pool(const std::string& pool_id) {
  static const std::string sql = std::string("SELECT ") + kPoolColumns + " FROM pools WHERE id = ?";
  auto& s = db_.bound(sql.c_str(), pool_id);
  if (!s.executeStep()) return std::nullopt;
  return pool_from(s);
}

std::vector<Pool> SqlitePoolStore::overlapping(const std::string& space, const Prefix& subnet) {
  static const std::string sql = std::string("SELECT ") + kPoolColumns +
                                 " FROM pools WHERE space = ? AND family = ? AND first <= ? AND "
                                 "last >= ? ORDER BY first";
  return rows(db_.bound(sql.c_str(), space, family_number(subnet.family()),
                        Blob{subnet.last().bytes()}, Blob{subnet.network().bytes()}),
              pool_from);
}

std::optional<Allocation> SqlitePoolStore::allocation_at(long long set_id, const Address& a) {
  auto& s = db_.bound("SELECT pool_id, kind, mac FROM allocations WHERE set_id = ? AND address = ?",
                      static_cast<int64_t>(set_id), Blob{a.bytes()});
  if (!s.executeStep()) return std::nullopt;
  return Allocation{a, s.getColumn(0).getString(),
                    parse_grant_kind(s.getColumn(1).getString()).value_or(GrantKind::Dynamic),
                    s.getColumn(2).getString()};
}

void SqlitePoolStore::take(const Pool& pool, const Address& a, GrantKind kind,
                           const std::string& mac) {
  db_.bound("INSERT INTO allocations (set_id, address, pool_id, kind, mac) VALUES (?, ?, ?, ?, ?)",
            static_cast<int64_t>(pool.set_id), Blob{a.bytes()}, pool.id, name_of(kind), mac)
      .exec();

  sets_.taken(pool.set_id, a);
}

void SqlitePoolStore::give_back(long long set_id, const Address& a) {
  db_.bound("DELETE FROM allocations WHERE set_id = ? AND address = ?",
            static_cast<int64_t>(set_id), Blob{a.bytes()})
      .exec();

  sets_.freed(set_id, a);
}

long long SqlitePoolStore::merge_sets(const std::vector<long long>& set_ids) {
  const long long into = *std::min_element(set_ids.begin(), set_ids.end());
  for (long long other : set_ids) {
    if (other == into) continue;
    for (const char* sql : {"UPDATE pools SET set_id = ? WHERE set_id = ?",
                            "UPDATE allocations SET set_id = ? WHERE set_id = ?",
                            "UPDATE OR REPLACE cursors SET set_id = ? WHERE set_id = ?"}) {
      db_.bound(sql, static_cast<int64_t>(into), static_cast<int64_t>(other)).exec();
    }
    bindings_.move_set(other, into);
    for (const char* sql :
         {"DELETE FROM taken_runs WHERE set_id = ?", "DELETE FROM address_sets WHERE id = ?"}) {
      db_.bound(sql, static_cast<int64_t>(other)).exec();
    }
  }
  sets_.rebuild_runs(into);
  return into;
}

Pool SqlitePoolStore::request_pool(const PoolSpec& spec) {
  return db_.write([&] {
    const Prefix subnet = choose_subnet(spec, defaults_, [&](const Prefix& candidate) {
      auto clash = overlapping(spec.address_space, candidate);
      return clash.empty() ? std::nullopt : std::optional<Prefix>(clash.front().subnet);
    });

    long long set_id = 0;
    const auto clashes = overlapping(spec.address_space, subnet);
    if (!clashes.empty()) {
      for (const auto& other : clashes) check_may_share(spec, subnet, other);
      std::vector<long long> sets;
      for (const auto& other : clashes) sets.push_back(other.set_id);
      std::sort(sets.begin(), sets.end());
      sets.erase(std::unique(sets.begin(), sets.end()), sets.end());
      set_id = sets.size() == 1 ? sets.front() : merge_sets(sets);
    } else {
      db_.bound("INSERT INTO address_sets (space) VALUES (?)", spec.address_space).exec();
      auto& last = db_.statement("SELECT last_insert_rowid()");
      last.executeStep();
      set_id = last.getColumn(0).getInt64();
    }

    Pool pool =
        new_pool(unique_pool_id(spec, subnet,
                                [&](const std::string& id) { return load_pool(id).has_value(); }),
                 spec, subnet);
    pool.set_id = set_id;

    const std::optional<std::string> range =
        pool.range ? std::optional(pool.range->str()) : std::nullopt;
    db_.bound(
           "INSERT INTO pools (id, space, family, subnet, first, last, ip_range, allocation, "
           "set_id, sticky) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
           pool.id, pool.address_space, family_number(subnet.family()), subnet.str(),
           Blob{subnet.network().bytes()}, Blob{subnet.last().bytes()}, range, name_of(pool.order),
           static_cast<int64_t>(set_id), pool.sticky ? 1 : 0)
        .exec();
    return pool;
  });
}

bool SqlitePoolStore::release_pool(const std::string& pool_id) {
  return db_.write([&] {
    auto pool = load_pool(pool_id);
    if (!pool) return false;
    bindings_.drop_pool(pool_id);
    for (const char* sql :
         {"DELETE FROM allocations WHERE pool_id = ?", "DELETE FROM pools WHERE id = ?"}) {
      db_.bound(sql, pool_id).exec();
    }
    auto& left = db_.bound("SELECT count(*) FROM pools WHERE set_id = ?",
                           static_cast<int64_t>(pool->set_id));
    left.executeStep();
    if (left.getColumn(0).getInt64() > 0) {
      sets_.rebuild_runs(pool->set_id);
    } else {
      for (const char* sql :
           {"DELETE FROM taken_runs WHERE set_id = ?", "DELETE FROM allocations WHERE set_id = ?",
            "DELETE FROM cursors WHERE set_id = ?", "DELETE FROM address_sets WHERE id = ?"}) {
        db_.bound(sql, static_cast<int64_t>(pool->set_id)).exec();
      }
    }
    return true;
  });
}

Cidr SqlitePoolStore::request_address(const std::string& pool_id, const AddressRequest& request) {
  return db_.write([&] {
    auto pool = load_pool(pool_id);
    if (!pool) throw unknown_pool_id(pool_id);
    const bool bind = sticky::binds(*pool, request);
    std::optional<Binding> mine;
    if (bind) mine = bindings_.find(pool->id, request.name);
    GrantKind kind = request.gateway ? GrantKind::Gateway : GrantKind::Dynamic;
    Address granted;
    if (request.address) {
      granted = *request.address;
      check_requested(*pool, granted);
      take_over_parked(*pool, granted);
      if (!request.gateway) kind = GrantKind::Static;
    } else if (request.gateway) {
      auto a = pick_gateway(
          [&](const Address& x) { return sets_.run_at_or_before(pool->set_id, x); }, *pool);
      if (!a) throw no_gateway_address(*pool);
      granted = *a;
    } else {
      if (auto back = sticky::returned(mine)) {
        bindings_.hold(pool->id, request.name);
        set_mac(pool->set_id, *back, request.mac);
        return Cidr{*back, pool->subnet.length()};
      }
      granted = pick_free(*pool);
    }
    take(*pool, granted, kind, request.mac);
    if (bind) rebind(*pool, request.name, mine, granted);
    return Cidr{granted, pool->subnet.length()};
  });
}

void SqlitePoolStore::take_over_parked(const Pool& pool, const Address& a) {
  auto held = allocation_at(pool.set_id, a);
  if (!held) return;
  if (auto parked = bindings_.at(pool.set_id, a); sticky::may_take(binding_of(parked))) {
    bindings_.drop(parked->pool_id, parked->binding.name);
    give_back(pool.set_id, a);
    return;
  }
  std::string holder = held->kind == GrantKind::Gateway
                           ? std::string("the gateway")
                           : std::string("a ") + name_of(held->kind) + " address";
  if (!held->mac.empty()) holder += " of the endpoint with MAC " + held->mac;
  if (held->pool_id != pool.id) holder += ", through pool " + held->pool_id;
  throw address_in_use(pool, a, holder);
}

Address SqlitePoolStore::pick_free(const Pool& pool) {
  auto bounds = dynamic_bounds(pool);
  if (bounds) {
    auto runs = [&](const Address& x) { return sets_.run_at_or_before(pool.set_id, x); };
    if (auto a = pick_dynamic(runs, *bounds, sets_.cursor(pool.set_id, *bounds), pool.order)) {
      sets_.set_cursor(pool.set_id, *bounds, *a);
      return *a;
    }
    // Parking never makes a pool run out: the address parked longest goes first.
    if (auto oldest = bindings_.oldest_parked(pool.set_id, *bounds)) {
      bindings_.drop(oldest->pool_id, oldest->binding.name);
      give_back(pool.set_id, oldest->binding.address);
      return oldest->binding.address;
    }
  }
  throw pool_full(pool, bounds, "");
}

void SqlitePoolStore::rebind(const Pool& pool, const std::string& name,
                             const std::optional<Binding>& before, const Address& a) {
  // `before` was read at the request's start; an --ip of the name's own parked address has been
  // taken over since, which sticky::previous sees as the same address.
  if (before) bindings_.drop(pool.id, name);
  if (sticky::previous(before, a) == sticky::Previous::Freed) {
    give_back(pool.set_id, before->address);
  }
  bindings_.bind(pool.id, pool.set_id, name, a);
}

void SqlitePoolStore::set_mac(long long set_id, const Address& a, const std::string& mac) {
  db_.bound("UPDATE allocations SET mac = ? WHERE set_id = ? AND address = ?", mac,
            static_cast<int64_t>(set_id), Blob{a.bytes()})
      .exec();
}

bool SqlitePoolStore::release_address(const std::string& pool_id, const Address& address) {
  return db_.write([&] {
    auto pool = load_pool(pool_id);
    if (!pool) return false;
    if (!pool->subnet.contains(address)) throw released_outside(*pool, address);
    auto held = allocation_at(pool->set_id, address);
    if (!held) return false;
    if (held->pool_id != pool->id) {
      throw conflict("Address " + address.str() + " is held through pool " + held->pool_id +
                     ", not " + pool->id + "; nothing was released");
    }
    switch (sticky::on_release(binding_of(bindings_.at(pool->set_id, address)))) {
      case sticky::Release::Nothing: return false;
      case sticky::Release::Park: bindings_.park(pool->set_id, address); return true;
      case sticky::Release::Free: break;
    }
    give_back(pool->set_id, address);
    return true;
  });
}

Address SqlitePoolStore::forget(const std::string& pool_id, const std::string& name) {
  return db_.write([&] {
    auto pool = load_pool(pool_id);
    if (!pool) throw unknown_pool(pool_id);
    const Binding b = sticky::forgettable(*pool, name, bindings_.find(pool_id, name));
    bindings_.drop(pool_id, name);
    give_back(pool->set_id, b.address);
    return b.address;
  });
}

std::optional<Pool> SqlitePoolStore::find_pool(const std::string& pool_id) {
  return db_.read([&] { return load_pool(pool_id); });
}

PoolStatus SqlitePoolStore::status_of(const Pool& pool) {
  PoolStatus ps{pool, {}, std::nullopt, 0, {}};
  auto& s = db_.bound(
      "SELECT address, kind, mac FROM allocations WHERE pool_id = ? ORDER BY address", pool.id);
  while (s.executeStep()) {
    ps.allocations.push_back(
        Allocation{address_column(s.getColumn(0)), pool.id,
                   parse_grant_kind(s.getColumn(1).getString()).value_or(GrantKind::Dynamic),
                   s.getColumn(2).getString()});
  }
  const auto bounds = dynamic_bounds(pool);
  if (bounds) ps.cursor = sets_.cursor(pool.set_id, *bounds);
  ps.dynamic_capacity = capacity(bounds);
  ps.bindings = bindings_.of_pool(pool.id);
  return ps;
}

std::vector<PoolStatus> SqlitePoolStore::status() {
  return db_.read([&] {
    static const std::string sql =
        std::string("SELECT ") + kPoolColumns + " FROM pools ORDER BY space, family, first, id";
    const std::vector<Pool> pools = rows(db_.statement(sql.c_str()), pool_from);
    std::vector<PoolStatus> out;
    for (const auto& pool : pools) out.push_back(status_of(pool));
    return out;
  });
}

std::vector<PoolStatus> SqlitePoolStore::status_of(const std::string& address_space,
                                                   const Prefix& subnet) {
  return db_.read([&] {
    static const std::string sql = std::string("SELECT ") + kPoolColumns +
                                   " FROM pools WHERE space = ? AND subnet = ? ORDER BY id";
    const std::vector<Pool> pools =
        rows(db_.bound(sql.c_str(), address_space, subnet.str()), pool_from);
    std::vector<PoolStatus> out;
    for (const auto& pool : pools) out.push_back(status_of(pool));
    return out;
  });
}

}  // namespace mvlan::ipam

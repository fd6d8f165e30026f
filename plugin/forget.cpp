#include "plugin/forget.h"

#include "common/error.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/short_id.h"
#include "plugin/stores.h"

namespace mvlan::plugin {
namespace {

// The pools where `name` is bound, narrowed by --pool / --subnet.
std::vector<ipam::PoolStatus> pools_binding(const std::vector<ipam::PoolStatus>& all,
                                            const ForgetOptions& o) {
  std::vector<ipam::PoolStatus> out;
  for (const auto& s : all) {
    if (!o.pool.empty() && s.pool.id != o.pool) continue;
    if (!o.subnet.empty() && s.pool.subnet.str() != o.subnet) continue;
    for (const auto& b : s.bindings) {
      if (b.name == o.name) out.push_back(s);
    }
  }
  return out;
}

std::string holder_of(store::NetworkStore* networks, const ipam::Address& a) {
  const auto holding =
      networks ? networks->endpoints_holding(a) : std::vector<store::EndpointRecord>{};
  if (holding.empty()) return "a container";
  return "endpoint " + short_id(holding.front().id) + " of network " +
         short_id(holding.front().network_id);
}

// `networks` (this host's endpoints, to name the holder of a held address) may be null.
int forget_in(ipam::PoolStore& pools, store::NetworkStore* networks, const ForgetOptions& options,
              std::ostream& out) {
  const auto candidates = pools_binding(pools.status(), options);
  const std::string name = quote(options.name, 120);
  if (candidates.empty()) {
    // Appends, not operator+ on temporaries: GCC 12 at -O3 reports a false -Wrestrict there.
    std::string where = "no pool";
    if (!options.pool.empty()) where.append(" ").append(quote(options.pool, 120));
    if (!options.subnet.empty()) where.append(" with subnet ").append(options.subnet);
    if (options.ipam.etcd) where.append(" of host ").append(options.ipam.host_id);
    log::error(where.append(" binds ").append(name).append("; mvlan status lists every binding"));
    return 1;
  }
  if (candidates.size() > 1) {
    std::string ids;
    for (const auto& c : candidates) ids.append(ids.empty() ? "" : ", ").append(c.pool.id);
    log::error(name + " is bound in several pools (" + ids + "); pick one with --pool ID");
    return 1;
  }
  const ipam::Pool& pool = candidates.front().pool;
  try {
    const ipam::Address freed = pools.forget(pool.id, options.name);
    out << "forgot " << options.name << ": " << freed.str() << " in pool " << pool.id
        << " is free\n";
    return 0;
  } catch (const Error& e) {
    if (e.kind != ErrorKind::Conflict) throw;
    for (const auto& b : candidates.front().bindings) {
      if (b.name != options.name) continue;
      log::error(name + "'s address " + b.address.str() + " in pool " + pool.id + " is held by " +
                 holder_of(networks, b.address) +
                 " now: only a parked binding (no container holds it) can be forgotten");
    }
    return 1;
  }
}

}  // namespace

int forget(const ForgetOptions& options, std::ostream& out) {
  try {
    // With etcd the bindings are there; the local database (when there is one) names endpoints.
    auto stores = open_stores(StoreUse::Edit, options.state_dir, options.ipam);
    if (!stores) return 1;
    return forget_in(*stores->pools, stores->networks.get(), options, out);
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
}

}  // namespace mvlan::plugin

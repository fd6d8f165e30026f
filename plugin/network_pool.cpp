#include "plugin/network_pool.h"

namespace mvlan::plugin {

std::optional<ipam::Pool> network_pool(ipam::PoolStore& pools, const std::string& address_space,
                                       const ipam::Prefix& subnet,
                                       const std::optional<ipam::Address>& gateway) {
  // Pools sharing a subnet (networks with their own ip-ranges) share one address set, so a grant
  // in any keeps the address from all; the choice only decides which ip-range a pick comes from.
  std::optional<ipam::Pool> found;
  int best = -1;
  for (const auto& s : pools.status_of(address_space, subnet)) {
    bool has_gateway = false;
    bool has_ours = false;
    for (const auto& a : s.allocations) {
      if (a.kind != ipam::GrantKind::Gateway) continue;
      has_gateway = true;
      has_ours |= a.address == gateway;
    }
    const int score = has_ours ? 2 : (!gateway && !has_gateway ? 1 : 0);
    if (score > best) {
      best = score;
      found = s.pool;
    }
  }
  return found;
}

}  // namespace mvlan::plugin

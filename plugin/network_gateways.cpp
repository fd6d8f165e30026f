// Gateways mvlan reserves itself. Engines >= 28 ask GwAllocCheck per network, without its
// subnets, and mvlan answers skip (a /31 has no address to spare); the subnets that then come
// without a gateway get the one Docker would have asked mvlan's IPAM for: the first free address
// of the ip-range, else of the subnet. Engine 20.10 always asks for a gateway itself.

#include "common/error.h"
#include "common/log.h"
#include "plugin/network_driver.h"
#include "plugin/network_subnets.h"

namespace mvlan::plugin {

std::optional<ipam::Pool> NetworkDriver::network_pool(const std::string& address_space,
                                                      const ipam::Prefix& subnet,
                                                      const std::string& gateway) {
  // Pools sharing a subnet (networks with their own ip-ranges) share one address set, so a grant
  // in any keeps the address from all; the choice only decides which ip-range a pick comes from.
  std::optional<ipam::Pool> found;
  int best = -1;
  for (const auto& s : pools_->status_of(address_space, subnet)) {
    bool has_gateway = false;
    bool has_ours = false;
    for (const auto& a : s.allocations) {
      if (a.kind != ipam::GrantKind::Gateway) continue;
      has_gateway = true;
      has_ours |= a.address.str() == gateway;
    }
    const int score = has_ours ? 2 : (gateway.empty() && !has_gateway ? 1 : 0);
    if (score > best) {
      best = score;
      found = s.pool;
    }
  }
  return found;
}

void NetworkDriver::reserve_gateways(const CreateNetworkRequest& request,
                                     store::NetworkRecord& network) {
  if (network.internal || !pools_) return;
  size_t v4_index = 0;
  size_t v6_index = 0;
  try {
    for (auto& s : network.subnets) {
      const auto& data = s.family == 4 ? request.ipv4[v4_index++] : request.ipv6_data[v6_index++];
      const auto subnet = *ipam::Prefix::parse(s.subnet);
      if (!s.gateway.empty() || !has_room_for_gateway(subnet)) continue;
      const auto pool = network_pool(data.address_space, subnet, "");
      if (!pool) continue;  // another IPAM's subnet: no gateway, as with Docker's own macvlan
      ipam::AddressRequest grant;
      grant.gateway = true;
      try {
        s.gateway = pools_->request_address(pool->id, grant).address.str();
      } catch (const Error& e) {
        if (e.kind != ErrorKind::Exhausted) throw;
        log::warn("network " + network.id.substr(0, 12) + ": no free address left in " +
                  s.subnet + " for a gateway; its containers get no default route");
        continue;
      }
      s.gateway_pool = pool->id;
      log::info("network " + network.id.substr(0, 12) + ": gateway " + s.gateway + " of " +
                s.subnet + " reserved by mvlan (the engine asked for none)");
    }
  } catch (...) {
    release_gateways(network);
    throw;
  }
}

void NetworkDriver::release_gateways(const store::NetworkRecord& network) {
  if (!pools_) return;
  for (const auto& s : network.subnets) {
    if (s.gateway_pool.empty()) continue;
    try {
      // Usually a no-op: Docker releases the whole pool before it deletes the network.
      pools_->release_address(s.gateway_pool, *ipam::Address::parse(s.gateway));
    } catch (const std::exception& e) {
      log::warn("releasing gateway " + s.gateway + ": " + e.what());
    }
  }
}

}  // namespace mvlan::plugin

// Gateways mvlan reserves itself. Engines >= 28 ask GwAllocCheck per network, without its
// subnets, and mvlan answers skip (a /31 has no address to spare); the subnets that then come
// without a gateway get the one Docker would have asked mvlan's IPAM for: the first free address
// of the ip-range, else of the subnet. Engine 20.10 always asks for a gateway itself.

#include "common/error.h"
#include "common/log.h"
#include "common/short_id.h"
#include "plugin/network_driver.h"
#include "plugin/network_pool.h"
#include "plugin/network_subnets.h"

namespace mvlan::plugin {

void NetworkDriver::reserve_gateways(const CreateNetworkRequest& request,
                                     store::NetworkRecord& network) {
  if (network.internal || !pools_) return;
  // The network's subnets are the request's, in its order.
  for (size_t i = 0; i < request.subnets.size(); ++i) {
    const NetworkSubnet& data = request.subnets[i];
    store::SubnetRecord& s = network.subnets[i];
    if (data.gateway || !has_room_for_gateway(data.subnet)) continue;
    const auto pool = network_pool(*pools_, data.address_space, data.subnet, std::nullopt);
    if (!pool) continue;  // another IPAM's subnet: no gateway, as with Docker's own macvlan
    ipam::AddressRequest grant;
    grant.gateway = true;
    try {
      s.gateway = pools_->request_address(pool->id, grant).address;
    } catch (const Error& e) {
      if (e.kind != ErrorKind::Exhausted) throw;
      log::warn("network " + short_id(network.id) + ": no free address left in " +
                data.subnet.str() + " for a gateway; its containers get no default route");
      continue;
    }
    s.gateway_pool = pool->id;
    log::info("network " + short_id(network.id) + ": gateway " + s.gateway->str() + " of " +
              data.subnet.str() + " reserved by mvlan (the engine asked for none)");
  }
}

void NetworkDriver::release_gateways(const store::NetworkRecord& network) {
  if (!pools_) return;
  for (const auto& s : network.subnets) {
    if (s.gateway_pool.empty() || !s.gateway) continue;
    try {
      // Usually a no-op: Docker releases the whole pool before it deletes the network.
      pools_->release_address(s.gateway_pool, *s.gateway);
    } catch (const std::exception& e) {
      log::warn("releasing gateway " + s.gateway->str() + ": " + e.what());
    }
  }
}

}  // namespace mvlan::plugin

#pragma once
// Which of mvlan's IPAM pools is a network's: the IPAM and the network driver meet only through
// (address space, subnet), so the driver finds the pool Docker requested for a subnet from those.

#include <optional>
#include <string>

#include "ipam/pool_store.h"

namespace mvlan::plugin {

// mvlan's pool of (address space, subnet): among pools sharing the subnet, the one holding
// `gateway` if given, else the newest one without a gateway (Docker just requested it).
std::optional<ipam::Pool> network_pool(ipam::PoolStore& pools, const std::string& address_space,
                                       const ipam::Prefix& subnet,
                                       const std::optional<ipam::Address>& gateway);

}  // namespace mvlan::plugin

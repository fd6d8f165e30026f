#pragma once
// -o host_access: the host reaches its own containers. The kernel passes no traffic between a
// parent link and its macvlan children, so the host gets a macvlan child of its own (the "shim",
// bridge mode, in the namespace mvlan runs in) with an address of the network. That address is
// reserved in mvlan's IPAM (same database), so no container is ever granted it, and each
// container address gets a host route (/32, /128) through the shim: more specific than any route
// the host already has, and only for addresses containers hold, so nothing else is disturbed.
//
// The NetworkDriver calls it with its lock held; it keeps no state of its own.

#include <optional>
#include <string>

#include "ipam/pool_store.h"
#include "netlink/kernel.h"
#include "plugin/driver_requests.h"
#include "store/network_store.h"

namespace mvlan::plugin {

// The host-access ("shim") link of a network: "mh" + 12 characters of its id.
std::string host_link_name(const std::string& network_id);
// Host-access links: "mh" + 12 lowercase hex characters of the network id.
bool is_host_link_name(const std::string& name);

class HostAccess {
 public:
  // `pools` is mvlan's own IPAM (same database); without it host access is refused.
  HostAccess(store::NetworkStore& store, kernel::Kernel& kernel, ipam::PoolStore* pools)
      : store_(store), kernel_(kernel), pools_(pools) {}

  // Reserves `wanted` in the pool of one of the request's subnets and records it in `network`
  // (host_access, host_pool). Throws Error(Invalid) naming the option.
  void reserve_address(const CreateNetworkRequest& request, const HostAccessOption& wanted,
                       store::NetworkRecord& network);
  // Best effort: a failure is logged.
  void release_address(const store::NetworkRecord& network);
  // The shim with its address, up; nothing is left behind when it throws.
  void create_link(const store::NetworkRecord& network);
  // DeleteNetwork: the shim (its routes go with it) and the address.
  void remove(const store::NetworkRecord& network);
  // Join: the shim again if it went missing, with every endpoint's route. Logs failures: the
  // containers work without it.
  void ensure_link(const store::NetworkRecord& network);
  // The host route to an endpoint; both log failures.
  void add_route(const store::NetworkRecord& network, const store::EndpointRecord& endpoint);
  void delete_route(const store::NetworkRecord& network, const store::EndpointRecord& endpoint);
  // At start: the reservation, the shim and the routes of a network with host access.
  void reconcile(const store::NetworkRecord& network);
  // The container's way back to the host's address when that lies in another of the network's
  // subnets than the endpoint's: a connected /32 (/128), as the host reaches it.
  static std::optional<std::string> return_route(const store::NetworkRecord& network,
                                                 const store::EndpointRecord& endpoint);

 private:
  store::NetworkStore& store_;
  kernel::Kernel& kernel_;
  ipam::PoolStore* pools_;
};

}  // namespace mvlan::plugin

#pragma once
// The NetworkDriver's handlers, typed. Networks and endpoints live in the store, links are made
// through the Kernel interface; after a restart every call works from the store alone (Docker
// never sends CreateNetwork again).

#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "ipam/pool_store.h"
#include "netlink/kernel.h"
#include "plugin/driver_requests.h"
#include "plugin/host_access.h"
#include "store/network_store.h"

namespace mvlan::plugin {

class NetworkDriver {
 public:
  // `pools` is mvlan's own IPAM (same database): -o host_access reserves the host's address in
  // it. Without it host_access is refused.
  NetworkDriver(store::NetworkStore& store, kernel::Kernel& kernel,
                ipam::PoolStore* pools = nullptr)
      : store_(store), kernel_(kernel), pools_(pools), host_access_(store, kernel, pools) {}

  // Engines >= 28 ask before allocating a gateway. mvlan always answers skip: the engine asks
  // per network, without the subnets, and a /31 or /32 has no address to spare. A gateway the
  // user gave is allocated anyway; create_network picks the others where there is room.
  struct GatewaySkip {
    bool ipv4 = false;
    bool ipv6 = false;
  };
  GatewaySkip gateway_skip() const { return {true, true}; }
  // Every refusal of the request names the network (12 characters of its id).
  void create_network(const CreateNetworkRequest& request);
  void delete_network(const std::string& network_id);
  // Returns the MAC mvlan generated, or nothing when Docker gave one (it must not be echoed).
  std::optional<std::string> create_endpoint(const CreateEndpointRequest& request);
  void delete_endpoint(const std::string& network_id, const std::string& endpoint_id);
  // Docker releases an endpoint's address only after DeleteEndpoint, or when its CreateEndpoint
  // failed. An endpoint still holding a released address is therefore one whose CreateEndpoint
  // mvlan stored but Docker saw fail (the plugin was killed before answering, and Docker's retry
  // arrives with an empty body): Docker will never delete it. Returns how many were dropped.
  size_t drop_endpoints_holding(const ipam::Address& address);
  JoinAnswer join(const std::string& network_id, const std::string& endpoint_id);
  void leave(const std::string& network_id, const std::string& endpoint_id);

  // At start, before serving: re-create missing parents mvlan made, delete parents no network
  // uses and endpoint links whose endpoint is gone. Logs one line per action.
  void reconcile();
  // After the grace period that follows reconcile(): deletes the endpoint links reconcile kept
  // that are still in the host namespace, unchanged (no container took them).
  void sweep_unclaimed_links();
  bool has_unclaimed_links();

  static std::string dummy_parent_name(const std::string& network_id);

 private:
  // What CreateNetwork will do, decided before anything is touched.
  struct NetworkPlan {
    store::NetworkRecord network;
    std::optional<store::OwnedParent> to_make;  // a VLAN or dummy parent mvlan creates
  };
  // Validates the request against the options, the store and the links; no side effects. Throws
  // the refusal. The caller holds mutex_.
  NetworkPlan plan_network(const CreateNetworkRequest& request);
  // Grants, the record, then the links; a failure takes back every step already made.
  void apply_network(const CreateNetworkRequest& request, NetworkPlan plan);
  store::NetworkRecord require_network(const std::string& network_id);
  void create_parent(const store::OwnedParent& parent);
  void ensure_parent(const store::NetworkRecord& network);
  std::string link_name_for(const std::string& endpoint_id);
  // The endpoint Docker names, if mvlan has it; throws when it is on another network than the
  // one named. The caller holds mutex_.
  std::optional<store::EndpointRecord> endpoint_on(const std::string& network_id,
                                                   const std::string& endpoint_id);
  // Its host route, its link and its record; the caller holds mutex_.
  void remove_endpoint(const store::EndpointRecord& endpoint);

  // Gateways mvlan picks itself (network_gateways.cpp): engines that skip gateway allocation
  // leave subnets without one, which get the address the IPAM would have picked for Docker.
  // A failure part-way leaves the gateways reserved so far in `network`, for release_gateways.
  void reserve_gateways(const CreateNetworkRequest& request, store::NetworkRecord& network);
  void release_gateways(const store::NetworkRecord& network);

  store::NetworkStore& store_;
  kernel::Kernel& kernel_;
  ipam::PoolStore* pools_;
  HostAccess host_access_;
  // Network and endpoint changes are few and short; one lock keeps parent sharing and link
  // naming decisions consistent without reasoning about interleavings.
  std::mutex mutex_;
  struct UnclaimedLink {
    std::string name;
    int index = 0;
  };
  std::vector<UnclaimedLink> unclaimed_links_;  // kept by reconcile(), for sweep_unclaimed_links()
};

// Endpoint links: "mv" + 12 characters of the endpoint id; reconciliation knows them by this.
bool is_endpoint_link_name(const std::string& name);

}  // namespace mvlan::plugin

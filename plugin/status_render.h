#pragma once
// `mvlan status`, rendered: text for people, JSON (--json) for scripts. Each renderer only reads
// the records it is given; status.cpp opens the stores and picks the renderers.

#include <map>
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "ipam/etcd_pool_store.h"
#include "ipam/pool_store.h"
#include "plugin/json_fields.h"
#include "store/network_store.h"

namespace mvlan::plugin {

// What an address is for: a static grant is a container's (--ip) when an endpoint holds it or it
// came with an endpoint MAC, else an --aux-address kept out of allocation; "host" is a network's
// -o host_access address (held by the host's shim link).
struct EndpointAddresses {
  std::map<std::string, std::string> endpoints;  // address -> the endpoint ID holding it
  std::set<std::string> hosts;                   // "PoolID address"
  bool count(const std::string& address) const { return endpoints.count(address) > 0; }
  std::string endpoint_of(const std::string& address) const {
    auto it = endpoints.find(address);
    return it == endpoints.end() ? "" : it->second;
  }
};
EndpointAddresses endpoint_addresses(const std::vector<store::EndpointRecord>& endpoints,
                                     const std::vector<store::NetworkRecord>& networks);

// "2026-12-02T19:20:01Z", for a binding's parked_at.
std::string utc(long long unix_ms);
// An allocation's column in the listings: parked, gateway, host, reserved or container.
const char* use_of(const ipam::Allocation& a, const EndpointAddresses& held,
                   const ipam::Binding* bound = nullptr);

// This host's pools (the SQLite backend).
json pool_json(const ipam::PoolStatus& s, const EndpointAddresses& held);
void print_pools(const std::vector<ipam::PoolStatus>& pools, const EndpointAddresses& held,
                 std::ostream& out);

// The IPAM of every host sharing the etcd cluster.
json cluster_json(const ipam::ClusterStatus& c, const std::string& this_host,
                  const EndpointAddresses& held);
void print_cluster(const ipam::ClusterStatus& c, const std::string& endpoints,
                   const std::string& this_host, const EndpointAddresses& held, std::ostream& out);

// This host's networks with their endpoints.
json network_json(const store::NetworkRecord& n,
                  const std::vector<store::EndpointRecord>& endpoints);
void print_networks(const std::vector<store::NetworkRecord>& networks,
                    const std::vector<store::EndpointRecord>& endpoints,
                    const std::vector<store::OwnedParent>& owned, std::ostream& out);

}  // namespace mvlan::plugin

#include "plugin/status.h"

#include "common/log.h"
#include "plugin/status_render.h"
#include "plugin/stores.h"

namespace mvlan::plugin {
namespace {

// Every host's IPAM from etcd, then this host's networks (when it has a database).
void print_cluster_status(const StatusOptions& options, Stores& stores, std::ostream& out) {
  std::vector<store::NetworkRecord> networks;
  std::vector<store::EndpointRecord> endpoints;
  std::vector<store::OwnedParent> owned;
  if (stores.networks) {
    networks = stores.networks->networks();
    endpoints = stores.networks->endpoints();
    owned = stores.networks->owned_parents();
  }
  const auto cluster = stores.cluster->cluster_status();
  const auto held = endpoint_addresses(endpoints, networks);
  if (options.json) {
    json doc{{"Cluster", cluster_json(cluster, options.ipam.host_id, held)},
             {"Networks", json::array()}};
    for (const auto& n : networks) doc["Networks"].push_back(network_json(n, endpoints));
    out << doc.dump(2) << "\n";
  } else {
    print_cluster(cluster, stores.etcd->endpoints(), options.ipam.host_id, held, out);
    print_networks(networks, endpoints, owned, out);
  }
}

// This host's pools and networks, from its database.
void print_local_status(const StatusOptions& options, Stores& stores, std::ostream& out) {
  const auto all = stores.pools->status();
  const auto networks = stores.networks->networks();
  const auto endpoints = stores.networks->endpoints();
  const auto held = endpoint_addresses(endpoints, networks);
  if (options.json) {
    json doc{{"Pools", json::array()}, {"Networks", json::array()}};
    for (const auto& s : all) doc["Pools"].push_back(pool_json(s, held));
    for (const auto& n : networks) doc["Networks"].push_back(network_json(n, endpoints));
    out << doc.dump(2) << "\n";
  } else {
    print_pools(all, held, out);
    print_networks(networks, endpoints, stores.networks->owned_parents(), out);
  }
}

}  // namespace

int print_status(const StatusOptions& options, std::ostream& out) {
  try {
    auto stores = open_stores(StoreUse::Inspect, options.state_dir, options.ipam);
    if (!stores) return 1;
    if (stores->cluster) {
      print_cluster_status(options, *stores, out);
    } else {
      print_local_status(options, *stores, out);
    }
    return 0;
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
}

}  // namespace mvlan::plugin

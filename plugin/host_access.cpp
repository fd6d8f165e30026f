// The host-access shim of a network: its address, its link and its routes (see host_access.h).

#include "plugin/host_access.h"

#include "common/error.h"
#include "common/log.h"
#include "common/short_id.h"
#include "common/undo.h"
#include "ipam/address.h"
#include "plugin/network_pool.h"
#include "plugin/network_subnets.h"

namespace mvlan::plugin {
namespace {

// The whole-address prefix: no connected subnet route appears beside the host's own.
std::string host_prefix(const ipam::Address& a) {
  return a.str() + (a.family() == ipam::Family::V4 ? "/32" : "/128");
}

// The host route to an endpoint: its /32 or /128 of the host address's family, when the network
// has host access and the endpoint an address of that family.
std::optional<std::string> host_route(const store::NetworkRecord& network,
                                      const store::EndpointRecord& endpoint) {
  if (!network.host_access) return std::nullopt;
  const auto family = network.host_access->family();
  for (const auto& cidr : {endpoint.address4, endpoint.address6}) {
    if (cidr && cidr->address.family() == family) return host_prefix(cidr->address);
  }
  return std::nullopt;
}

}  // namespace

std::string host_link_name(const std::string& network_id) {
  return "mh" + short_id(network_id);
}

bool is_host_link_name(const std::string& name) {
  if (name.size() != 14 || name.rfind("mh", 0) != 0) return false;
  return name.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

void HostAccess::reserve_address(const CreateNetworkRequest& request,
                                 const HostAccessOption& wanted, store::NetworkRecord& network) {
  const std::string what = "option host_access=" + wanted.text + ": ";
  if (!pools_) {
    throw invalid(what +
                  "needs mvlan as the IPAM driver too (--ipam-driver mvlan), which keeps "
                  "the host's address from every container");
  }
  const auto& address = wanted.address;
  const ipam::Family family = address                   ? address->family()
                              : request.subnets.empty() ? ipam::Family::V6
                                                        : request.subnets.front().subnet.family();
  // The subnet holding the address given, or for auto the family's first one; subnets follow
  // Docker's data in order, IPv4 first.
  std::optional<size_t> chosen;
  std::string subnets;
  size_t of_family = 0;
  for (size_t i = 0; i < request.subnets.size(); ++i) {
    const ipam::Prefix& subnet = request.subnets[i].subnet;
    if (subnet.family() != family) continue;
    ++of_family;
    subnets += (subnets.empty() ? "" : ", ") + subnet.str();
    if (!chosen && (!address || subnet.contains(*address))) chosen = i;
  }
  if (of_family == 0) {
    throw invalid(what + "the network has no " + ipam::name_of(family) + " subnet");
  }
  if (!chosen) {
    throw invalid(what + "the address is outside the network's " +
                  (of_family > 1 ? "subnets " : "subnet ") + subnets + "; give an address inside " +
                  (of_family > 1 ? "one of them" : "it"));
  }
  const NetworkSubnet& data = request.subnets[*chosen];
  const auto& record = network.subnets[*chosen];
  // The IPAM and the driver meet only through (address space, subnet); the pool whose gateway is
  // this subnet's is the network's own.
  const auto pool = network_pool(*pools_, data.address_space, data.subnet, record.gateway);
  if (!pool) {
    throw invalid(what + "subnet " + data.subnet.str() +
                  " is not a pool of mvlan's IPAM; create the network with --ipam-driver mvlan, "
                  "which keeps the host's address from every container");
  }
  ipam::AddressRequest grant;
  grant.address = address;
  try {
    network.host_access = pools_->request_address(pool->id, grant).address;
  } catch (const Error& e) {
    throw Error(e.kind, what + e.what());
  }
  network.host_pool = pool->id;
}

std::optional<std::string> HostAccess::return_route(const store::NetworkRecord& network,
                                                    const store::EndpointRecord& endpoint) {
  if (!network.host_access) return std::nullopt;
  const ipam::Address& host = *network.host_access;
  for (const auto& cidr : {endpoint.address4, endpoint.address6}) {
    if (!cidr || cidr->address.family() != host.family()) continue;
    const auto subnet = subnet_of(network, cidr);
    if (subnet && subnet->subnet.contains(host)) return std::nullopt;  // on the subnet's route
    return host_prefix(host);
  }
  return std::nullopt;
}

void HostAccess::release_address(const store::NetworkRecord& network) {
  if (!pools_ || !network.host_access) return;
  try {
    // Usually a no-op: Docker releases the whole pool before it deletes the network.
    pools_->release_address(network.host_pool, *network.host_access);
  } catch (const std::exception& e) {
    log::warn("releasing host address " + network.host_access->str() + ": " + e.what());
  }
}

void HostAccess::remove(const store::NetworkRecord& network) {
  if (!network.host_access) return;
  // Its routes go with it.
  if (kernel_.delete_link(host_link_name(network.id))) {
    log::info("deleted host-access link " + host_link_name(network.id));
  }
  release_address(network);
}

void HostAccess::create_link(const store::NetworkRecord& network) {
  const std::string link = host_link_name(network.id);
  const ipam::Address& address = *network.host_access;
  kernel_.create_macvlan(network.parent, link, kernel::MacvlanMode::Bridge, kernel::Mac{},
                         network.mtu);
  Undo undo;
  undo.add([&] { kernel_.delete_link(link); });
  kernel_.add_address(link, host_prefix(address));
  kernel_.set_up(link);
  undo.commit();
  log::info("host access for network " + short_id(network.id) + ": link " + link + " on " +
            network.parent + " with " + address.str());
}

void HostAccess::ensure_link(const store::NetworkRecord& network) {
  if (!network.host_access) return;
  try {
    if (kernel_.find_link(host_link_name(network.id))) return;
    create_link(network);
    for (const auto& endpoint : store_.endpoints()) {
      if (endpoint.network_id == network.id) add_route(network, endpoint);
    }
  } catch (const std::exception& e) {
    // The containers work without it; only the host loses its way to them.
    log::error("host access for network " + short_id(network.id) + ": " + e.what());
  }
}

void HostAccess::add_route(const store::NetworkRecord& network,
                           const store::EndpointRecord& endpoint) {
  const auto route = host_route(network, endpoint);
  if (!route) return;
  try {
    kernel_.add_route(*route, host_link_name(network.id), network.host_access->str());
  } catch (const std::exception& e) {
    log::error("host access to endpoint " + short_id(endpoint.id) + ": " + e.what() +
               "; the host cannot reach " + *route + " until mvlan restarts");
  }
}

void HostAccess::delete_route(const store::NetworkRecord& network,
                              const store::EndpointRecord& endpoint) {
  const auto route = host_route(network, endpoint);
  if (!route) return;
  try {
    kernel_.delete_route(*route, host_link_name(network.id));
  } catch (const std::exception& e) {
    log::warn("host access to endpoint " + short_id(endpoint.id) + ": " + e.what());
  }
}

void HostAccess::reconcile(const store::NetworkRecord& network) {
  const std::string link = host_link_name(network.id);
  // The reservation is normally there; granting it again only succeeds when it went missing.
  if (pools_) {
    ipam::AddressRequest grant;
    grant.address = network.host_access;
    try {
      pools_->request_address(network.host_pool, grant);
      log::info("reconcile: reserved host address " + network.host_access->str() +
                " again in pool " + network.host_pool);
    } catch (const Error& e) {
      if (e.kind != ErrorKind::Conflict) log::warn(std::string("reconcile: ") + e.what());
    }
  }
  try {
    if (kernel_.find_link(link)) {
      kernel_.add_address(link, host_prefix(*network.host_access));
      kernel_.set_up(link);
    } else {
      create_link(network);
      log::info("reconcile: re-created missing host-access link " + link);
    }
  } catch (const std::exception& e) {
    log::error("reconcile: host access for network " + short_id(network.id) + ": " + e.what());
    return;
  }
  for (const auto& endpoint : store_.endpoints()) {
    if (endpoint.network_id == network.id) add_route(network, endpoint);
  }
}

}  // namespace mvlan::plugin

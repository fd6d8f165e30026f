// CreateEndpoint, Join, Leave, DeleteEndpoint: one macvlan link per endpoint.

#include <exception>
#include <initializer_list>

#include "common/error.h"
#include "common/log.h"
#include "common/short_id.h"
#include "ipam/address.h"
#include "plugin/mac.h"
#include "plugin/network_driver.h"
#include "plugin/network_options.h"
#include "plugin/network_subnets.h"

namespace mvlan::plugin {
namespace {

// Docker names the endpoint's network in every call: an endpoint of another network is not one
// the caller may join, leave or delete.
void check_network_of(const store::EndpointRecord& endpoint, const std::string& network_id) {
  if (endpoint.network_id != network_id) {
    throw not_found("endpoint " + short_id(endpoint.id) + " is not on network " +
                    short_id(network_id) + " (it is on network " + short_id(endpoint.network_id) +
                    ")");
  }
}

void check_endpoint_ids(const std::string& network_id, const std::string& endpoint_id) {
  check_docker_id("NetworkID", network_id);
  check_docker_id("EndpointID", endpoint_id);
}

// Names the endpoint in the IPAM's record of its addresses (the cluster view of `mvlan status`).
// Best effort: the endpoint is stored and the address was granted by RequestAddress a moment ago
// (so etcd had quorum then); failing CreateEndpoint now would make Docker tear the container's
// network down over a label, so a failure is logged and the address stays granted unnamed.
void record_holder(ipam::PoolStore& pools, const std::string& endpoint_id, const std::string& mac,
                   std::initializer_list<std::optional<ipam::Cidr>> cidrs) {
  for (const auto& cidr : cidrs) {
    if (!cidr) continue;
    try {
      pools.record_endpoint(cidr->address, endpoint_id, mac);
    } catch (const std::exception& e) {
      log::warn("endpoint " + short_id(endpoint_id) + ": could not record it as the holder of " +
                cidr->address.str() + ": " + e.what());
    }
  }
}

}  // namespace

bool is_endpoint_link_name(const std::string& name) {
  // Docker's endpoint ids are lowercase hex, so a user's own link rarely fits this shape.
  if (name.size() != 14 || name.rfind("mv", 0) != 0) return false;
  return name.find_first_not_of("0123456789abcdef", 2) == std::string::npos;
}

std::string NetworkDriver::link_name_for(const std::string& endpoint_id) {
  // 12 characters of a random 64-character id rarely collide; when they do, shift the window.
  for (size_t start = 0; start + 12 <= endpoint_id.size(); ++start) {
    const std::string name = "mv" + endpoint_id.substr(start, 12);
    if (!store_.link_name_taken(name)) return name;
  }
  throw conflict("no free link name for endpoint " + short_id(endpoint_id));
}

std::optional<std::string> NetworkDriver::create_endpoint(const CreateEndpointRequest& request) {
  check_endpoint_ids(request.network_id, request.endpoint_id);
  const Mac mac = request.mac ? *request.mac : generate_mac();
  std::optional<std::string> generated;
  if (!request.mac) generated = format_mac(mac);

  {
    std::lock_guard lock(mutex_);
    require_network(request.network_id);
    if (store_.endpoint(request.endpoint_id)) {
      throw conflict("endpoint " + short_id(request.endpoint_id) + " already exists");
    }
    store::EndpointRecord endpoint;
    endpoint.id = request.endpoint_id;
    endpoint.network_id = request.network_id;
    endpoint.mac = mac;
    endpoint.address4 = request.address4;
    endpoint.address6 = request.address6;
    endpoint.link = link_name_for(request.endpoint_id);
    store_.add_endpoint(endpoint);
    log::info("endpoint " + short_id(endpoint.id) + " created on network " +
              short_id(endpoint.network_id) + " with MAC " + format_mac(mac));
  }
  // Outside the lock: with etcd this is two round trips, which other endpoints need not wait on.
  // Only a MAC Docker chose can match the one its RequestAddress carried.
  if (pools_) {
    record_holder(*pools_, request.endpoint_id, generated ? "" : format_mac(mac),
                  {request.address4, request.address6});
  }
  return generated;
}

void NetworkDriver::ensure_parent(const store::NetworkRecord& network) {
  if (kernel_.find_link(network.parent)) return;
  if (auto owned = store_.owned_parent(network.parent)) {
    create_parent(*owned);
    log::info("re-created missing " + std::string(name_of(owned->kind)) + " link " + owned->name);
    return;
  }
  throw Error(ErrorKind::Kernel, "parent link " + network.parent + " of network " +
                                     short_id(network.id) +
                                     " does not exist any more; bring it back (mvlan never "
                                     "creates a link the user made) and retry");
}

JoinAnswer NetworkDriver::join(const std::string& network_id, const std::string& endpoint_id) {
  check_endpoint_ids(network_id, endpoint_id);
  std::lock_guard lock(mutex_);
  auto endpoint = endpoint_on(network_id, endpoint_id);
  if (!endpoint) throw not_found("unknown endpoint " + short_id(endpoint_id));
  const auto network = require_network(endpoint->network_id);
  ensure_parent(network);
  // A link of this name in the host namespace is left over from an interrupted Join.
  if (kernel_.delete_link(endpoint->link)) log::info("replaced stale link " + endpoint->link);
  try {
    kernel_.create_macvlan(network.parent, endpoint->link, network.mode, endpoint->mac,
                           network.mtu);
  } catch (const kernel::KernelError& e) {
    // A passthru parent's one macvlan sits inside a container, where the kernel layer cannot see
    // it to explain the kernel's EINVAL: the store knows who holds it.
    if (network.mode != MacvlanMode::Passthru || !e.invalid_argument()) throw;
    std::string others;
    for (const auto& other : store_.endpoints()) {
      if (other.network_id == network.id && other.id != endpoint_id) {
        others += (others.empty() ? "" : ", ") + short_id(other.id);
      }
    }
    throw kernel::KernelError("network " + short_id(network.id) + " is in passthru mode and " +
                                  "already has its one container (endpoint " +
                                  (others.empty() ? std::string("unknown") : others) +
                                  "); passthru gives the whole parent " + network.parent +
                                  " to a single container: stop that one first, or use bridge "
                                  "mode for several",
                              e.code);
  }
  log::info("endpoint " + short_id(endpoint_id) + " joined: link " + endpoint->link + " on " +
            network.parent);
  host_access_.ensure_link(network);
  host_access_.add_route(network, *endpoint);
  JoinAnswer answer;
  answer.link = endpoint->link;
  if (!network.internal) {
    // Per address: a gateway outside the endpoint's own subnet cannot be reached on the link.
    if (auto s = subnet_of(network, endpoint->address4); s && s->gateway) {
      answer.gateway4 = s->gateway->str();
    }
    if (auto s = subnet_of(network, endpoint->address6); s && s->gateway) {
      answer.gateway6 = s->gateway->str();
    }
  }
  if (auto route = HostAccess::return_route(network, *endpoint)) {
    answer.connected_routes.push_back(*route);
  }
  return answer;
}

std::optional<store::EndpointRecord> NetworkDriver::endpoint_on(const std::string& network_id,
                                                                const std::string& endpoint_id) {
  auto endpoint = store_.endpoint(endpoint_id);
  if (endpoint) check_network_of(*endpoint, network_id);
  return endpoint;
}

void NetworkDriver::leave(const std::string& network_id, const std::string& endpoint_id) {
  check_endpoint_ids(network_id, endpoint_id);
  std::lock_guard lock(mutex_);
  auto endpoint = endpoint_on(network_id, endpoint_id);
  if (!endpoint) return;
  if (auto network = store_.network(endpoint->network_id)) {
    host_access_.delete_route(*network, *endpoint);
  }
  // Docker moved the link back to the host namespace under its SrcName: delete it there.
  if (kernel_.delete_link(endpoint->link)) log::info("endpoint " + short_id(endpoint_id) + " left");
}

void NetworkDriver::delete_endpoint(const std::string& network_id, const std::string& endpoint_id) {
  check_endpoint_ids(network_id, endpoint_id);
  std::lock_guard lock(mutex_);
  auto endpoint = endpoint_on(network_id, endpoint_id);
  if (!endpoint) return;
  remove_endpoint(*endpoint);
  log::info("endpoint " + short_id(endpoint_id) + " deleted");
}

void NetworkDriver::remove_endpoint(const store::EndpointRecord& endpoint) {
  if (auto network = store_.network(endpoint.network_id)) {
    host_access_.delete_route(*network, endpoint);
  }
  kernel_.delete_link(endpoint.link);
  store_.remove_endpoint(endpoint.id);
}

size_t NetworkDriver::drop_endpoints_holding(const ipam::Address& address) {
  std::lock_guard lock(mutex_);
  const auto stale = store_.endpoints_holding(address);
  for (const auto& endpoint : stale) {
    remove_endpoint(endpoint);
    log::warn("endpoint " + short_id(endpoint.id) + " still held " + address.str() +
              " when Docker released it: Docker gave up on its CreateEndpoint (cut off by a "
              "plugin restart, then retried without its body); endpoint dropped");
  }
  return stale.size();
}

}  // namespace mvlan::plugin

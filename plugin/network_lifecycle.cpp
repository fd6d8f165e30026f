// CreateNetwork and DeleteNetwork: a plan (validated, decided, nothing touched), then its
// application, which an Undo takes back whole when a step fails; parents made or shared.

#include "common/error.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/short_id.h"
#include "common/undo.h"
#include "ipam/address.h"
#include "plugin/network_driver.h"
#include "plugin/network_options.h"
#include "plugin/network_subnets.h"

namespace mvlan::plugin {
namespace {

Error no_such_link(const std::string& parent) {
  return invalid("option parent=" + parent +
                 ": no such link; give an existing link, or NAME.VID (such as eth0.100) to "
                 "have mvlan create an 802.1Q VLAN link on NAME");
}

}  // namespace

std::string NetworkDriver::dummy_parent_name(const std::string& network_id) {
  return "dm-" + short_id(network_id);
}

store::NetworkRecord NetworkDriver::require_network(const std::string& network_id) {
  auto network = store_.network(network_id);
  if (!network) {
    throw not_found("unknown network " + short_id(network_id) +
                    ": mvlan has no record of it (was it created with another driver?)");
  }
  return *network;
}

void NetworkDriver::create_parent(const store::OwnedParent& parent) {
  if (parent.kind == store::ParentKind::Vlan) {
    kernel_.create_vlan(parent.base, parent.vlan_id, parent.name);
  } else {
    kernel_.create_dummy(parent.name);
  }
}

void NetworkDriver::create_network(const CreateNetworkRequest& request) {
  check_docker_id("NetworkID", request.network_id);
  naming_network(request.network_id, [&] {
    std::lock_guard lock(mutex_);
    apply_network(request, plan_network(request));
  });
}

NetworkDriver::NetworkPlan NetworkDriver::plan_network(const CreateNetworkRequest& request) {
  const NetworkOptions& options = request.options;
  NetworkPlan plan;
  store::NetworkRecord& network = plan.network;
  network.id = request.network_id;
  network.mode = options.mode;
  network.ipv6 = request.ipv6;
  network.internal = request.internal || !options.parent;
  for (const auto& s : request.subnets) {
    network.subnets.push_back({s.subnet.family(), s.subnet, s.gateway, ""});
  }

  if (store_.network(request.network_id)) {
    throw conflict("network " + short_id(request.network_id) + " already exists in mvlan");
  }

  unsigned parent_mtu = 1500;
  if (!options.parent) {
    network.parent = dummy_parent_name(request.network_id);
    if (!kernel_.find_link(network.parent))
      plan.to_make = store::OwnedParent{network.parent, store::ParentKind::Dummy, "", 0};
  } else {
    network.parent = *options.parent;
    if (auto link = kernel_.find_link(network.parent)) {
      parent_mtu = link->mtu;
    } else if (auto vlan = parse_vlan_name(network.parent)) {
      auto base = kernel_.find_link(vlan->base);
      if (!base) {
        throw invalid("option parent=" + network.parent + ": the base link " + vlan->base +
                      " does not exist, so VLAN " + std::to_string(vlan->vid) +
                      " cannot be created on it");
      }
      parent_mtu = base->mtu;
      plan.to_make =
          store::OwnedParent{network.parent, store::ParentKind::Vlan, vlan->base, vlan->vid};
    } else {
      throw no_such_link(network.parent);
    }
  }

  for (const auto& other : store_.networks_on_parent(network.parent)) {
    if (options.mode == kernel::MacvlanMode::Passthru) {
      throw conflict("macvlan_mode=passthru needs parent " + network.parent +
                     " to itself, but network " + short_id(other.id) + " already uses it");
    }
    if (other.mode == MacvlanMode::Passthru) {
      throw conflict("parent " + network.parent + " is held by network " + short_id(other.id) +
                     " in passthru mode, which shares its parent with no other network");
    }
  }

  if (options.mtu > 0) {
    if (options.mtu > parent_mtu) {
      throw invalid("option mtu=" + std::to_string(options.mtu) + " is above the MTU " +
                    std::to_string(parent_mtu) + " of parent " + network.parent + "; use at most " +
                    std::to_string(parent_mtu));
    }
    network.mtu = options.mtu;
  }
  return plan;
}

void NetworkDriver::apply_network(const CreateNetworkRequest& request, NetworkPlan plan) {
  store::NetworkRecord& network = plan.network;
  const auto& to_make = plan.to_make;
  Undo undo;
  undo.add([&] { release_gateways(network); });
  reserve_gateways(request, network);
  if (request.options.host_access) {
    host_access_.reserve_address(request, *request.options.host_access, network);
    undo.add([&] { host_access_.release_address(network); });
  }
  // Record first, then touch the kernel: a crash in between leaves a stored network whose
  // missing parent reconciliation re-creates, never a link nobody knows is ours.
  store_.add_network(network, to_make);
  undo.add([&] {
    store_.remove_network(network.id);
    if (to_make) store_.forget_parent(to_make->name);
  });
  if (to_make) {
    create_parent(*to_make);
    undo.add([&] { kernel_.delete_link(to_make->name); });
    log::info("created " + std::string(name_of(to_make->kind)) + " link " + to_make->name +
              " for network " + short_id(network.id));
  }
  if (network.host_access) host_access_.create_link(network);
  undo.commit();
  log::info("network " + short_id(network.id) + " created on " + network.parent + " (" +
            name_of(network.mode) + (network.internal ? ", internal" : "") +
            (network.host_access ? ", host access " + network.host_access->str() : "") + ")");
}

void NetworkDriver::delete_network(const std::string& network_id) {
  check_docker_id("NetworkID", network_id);
  std::lock_guard lock(mutex_);
  const auto network = store_.network(network_id);
  const auto removal = store_.remove_network(network_id);
  if (network) {
    host_access_.remove(*network);
    release_gateways(*network);
  }
  for (const auto& link : removal.endpoint_links) {
    if (kernel_.delete_link(link)) log::info("deleted leftover endpoint link " + link);
  }
  if (removal.orphan_parent) {
    const auto& parent = *removal.orphan_parent;
    if (kernel_.delete_link(parent.name)) {
      log::info("deleted " + std::string(name_of(parent.kind)) + " link " + parent.name +
                " with its last network");
    }
    store_.forget_parent(parent.name);
  }
  log::info("network " + short_id(network_id) + " deleted");
}

}  // namespace mvlan::plugin

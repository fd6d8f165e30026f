// Startup reconciliation: make the kernel agree with the store after a crash or a reboot.

#include <set>

#include "common/log.h"
#include "plugin/network_driver.h"

namespace mvlan::plugin {

void NetworkDriver::reconcile() {
  std::lock_guard lock(mutex_);
  std::set<std::string> used_parents;
  for (const auto& network : store_.networks()) used_parents.insert(network.parent);

  for (const auto& parent : store_.owned_parents()) {
    if (!used_parents.count(parent.name)) {
      if (kernel_.delete_link(parent.name)) {
        log::info("reconcile: deleted " + std::string(name_of(parent.kind)) + " link " +
                  parent.name + " that no network uses");
      }
      store_.forget_parent(parent.name);
    } else if (!kernel_.find_link(parent.name)) {
      try {
        create_parent(parent);
        log::info("reconcile: re-created missing " + std::string(name_of(parent.kind)) + " link " +
                  parent.name);
      } catch (const std::exception& e) {
        log::error(std::string("reconcile: ") + e.what());
      }
    }
  }
  for (const auto& name : used_parents) {
    if (!store_.owned_parent(name) && !kernel_.find_link(name)) {
      log::warn("reconcile: parent link " + name +
                " is missing; its networks fail until the link is back");
    }
  }
  std::set<std::string> host_links;
  for (const auto& network : store_.networks()) {
    if (!network.host_access) continue;
    host_links.insert(host_link_name(network.id));
    host_access_.reconcile(network);
  }
  // Endpoint links rest in the host namespace only between Join and Docker moving them into the
  // container. One whose endpoint is gone is left over: deleted now. One whose endpoint exists
  // may be a Join whose answer reached Docker just before the restart, and Docker moves it after
  // the restart (deleting it here fails that container with "Link not found"): it is left for
  // the grace period, then swept if still here.
  unclaimed_links_.clear();
  for (const auto& link : kernel_.list_links()) {
    if (link.kind == "macvlan" && is_endpoint_link_name(link.name)) {
      if (store_.link_name_taken(link.name)) {
        unclaimed_links_.push_back({link.name, link.index});
        log::info("reconcile: kept endpoint link " + link.name +
                  " for Docker to move into its container; deleted later if it is still here");
      } else if (kernel_.delete_link(link.name)) {
        log::info("reconcile: deleted leftover endpoint link " + link.name);
      }
    }
    // A host-access link whose network is gone: its DeleteNetwork was lost.
    if (link.kind == "macvlan" && is_host_link_name(link.name) && !host_links.count(link.name)) {
      if (kernel_.delete_link(link.name)) {
        log::info("reconcile: deleted host-access link " + link.name + " of a removed network");
      }
    }
  }
}

void NetworkDriver::sweep_unclaimed_links() {
  std::lock_guard lock(mutex_);
  for (const auto& [name, index] : unclaimed_links_) {
    // Only the very link seen at start: a Join since then made a new one (a new index).
    auto link = kernel_.find_link(name);
    if (link && link->index == index && kernel_.delete_link(name)) {
      log::info("deleted endpoint link " + name +
                ": no container took it since the restart (its Join was cut off)");
    }
  }
  unclaimed_links_.clear();
}

bool NetworkDriver::has_unclaimed_links() {
  std::lock_guard lock(mutex_);
  return !unclaimed_links_.empty();
}

}  // namespace mvlan::plugin

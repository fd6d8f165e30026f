#include "plugin/release_host.h"

#include "common/log.h"
#include "etcd/host_lease.h"
#include "plugin/stores.h"

namespace mvlan::plugin {

int release_host(const ReleaseHostOptions& options, std::ostream& out) {
  try {
    auto stores = open_stores(StoreUse::Cluster, "", options.ipam);
    ipam::EtcdPoolStore& pools = *stores->cluster;
    if (pools.host_alive(options.host) && !options.force) {
      log::error("host " + options.host + " is alive: its plugin keeps " + options.ipam.prefix +
                 "hosts/" + options.host +
                 " registered in etcd; stop it first (the key expires within " +
                 std::to_string(etcd::HostLease::kTtlSeconds) +
                 " s), or pass --force if that host is gone for good; nothing was released");
      return 1;
    }
    const size_t freed = pools.release_host(options.host);
    out << "released " << freed << " addresses and the pools of host " << options.host
        << "; shared gateways and aux addresses stay\n";
    return 0;
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
}

}  // namespace mvlan::plugin

#include "plugin/serve.h"

#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <memory>
#include <mutex>
#include <thread>

#include "common/error.h"
#include "common/log.h"
#include "etcd/host_lease.h"
#include "ipam/allocator.h"
#include "netlink/libnl_kernel.h"
#include "plugin/ipam_api.h"
#include "plugin/ipam_driver.h"
#include "plugin/network_api.h"
#include "plugin/network_driver.h"
#include "plugin/state_lock.h"
#include "plugin/stores.h"
#include "plugin/unix_server.h"
#include "plugin/version.h"

namespace mvlan::plugin {
namespace {

void add_plugin_routes(Router& router) {
  router.add("/Plugin.Activate", Interface::Plugin, [](const json&) {
    return json{{"Implements", json::array({"NetworkDriver", "IpamDriver"})}};
  });
}

// Sweeps the endpoint links reconcile() kept once MVLAN_JOIN_GRACE has passed, on a thread of
// its own so that serving starts at once; a stop before then cancels it (the next start keeps
// them again).
class LinkSweep {
 public:
  LinkSweep(NetworkDriver& driver, std::chrono::seconds grace) {
    if (!driver.has_unclaimed_links()) return;
    if (grace.count() == 0) {
      driver.sweep_unclaimed_links();
      return;
    }
    thread_ = std::thread([this, &driver, grace] {
      std::unique_lock lock(mutex_);
      if (wake_.wait_for(lock, grace, [this] { return cancelled_; })) return;
      try {
        driver.sweep_unclaimed_links();
      } catch (const std::exception& e) {
        log::error(std::string("deleting endpoint links no container took: ") + e.what());
      }
    });
  }
  ~LinkSweep() { cancel(); }
  void cancel() {
    {
      std::lock_guard lock(mutex_);
      cancelled_ = true;
    }
    wake_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  std::mutex mutex_;
  std::condition_variable wake_;
  bool cancelled_ = false;
  std::thread thread_;
};

}  // namespace

int serve(const ServeOptions& options) {
  log::set_level(options.log_level);
  // Signals are taken synchronously by this thread alone; workers never see them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  try {
    namespace fs = std::filesystem;
    fs::create_directories(options.state_dir);
    fs::permissions(options.state_dir, fs::perms::owner_all, fs::perm_options::replace);
    fs::create_directories(fs::path(options.socket).parent_path());

    StateLock lock(options.state_dir);
    const auto defaults = ipam::parse_default_pools(options.default_pools);
    // Networks, endpoints and links stay in the local database whatever the IPAM backend.
    Stores stores = *open_stores(StoreUse::Serve, options.state_dir, options.ipam, defaults);
    std::unique_ptr<etcd::HostLease> lease;
    if (stores.etcd) {
      char name[256] = {};
      ::gethostname(name, sizeof name - 1);
      lease = std::make_unique<etcd::HostLease>(
          *stores.etcd, options.ipam.prefix + "hosts/" + options.ipam.host_id,
          std::string(name) + ":" + options.state_dir);
      try {
        lease->claim();
      } catch (const Error& e) {
        if (e.kind != ErrorKind::Store) throw;
        // Running containers need no etcd: serve, and register once etcd answers.
        log::warn(std::string(e.what()) +
                  "; serving anyway, address requests fail until it is back");
      }
      lease->start();
      log::info("IPAM in etcd " + stores.etcd->endpoints() + " under " + options.ipam.prefix +
                " as host " + options.ipam.host_id);
    }
    ipam::PoolStore& pools = *stores.pools;
    store::NetworkStore& networks = *stores.networks;
    kernel::Netlink kernel;
    NetworkDriver network_driver(networks, kernel, &pools);
    IpamDriver ipam_driver(pools, [&network_driver](const ipam::Address& address) {
      network_driver.drop_endpoints_holding(address);
    });
    network_driver.reconcile();

    Router router;
    add_plugin_routes(router);
    add_ipam_routes(router, ipam_driver);
    add_network_routes(router, network_driver);

    UnixServer server(options.socket, router);
    server.start();
    log::info(std::string("mvlan ") + kVersion + " serving; state in " + stores.db->path());
    LinkSweep sweep(network_driver, options.join_grace);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log::info(std::string("stopping on ") + (sig == SIGTERM ? "SIGTERM" : "SIGINT") +
              ": finishing requests in flight");
    sweep.cancel();
    server.stop();
    log::info("stopped; socket removed, database closed");
    return 0;
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
}

}  // namespace mvlan::plugin

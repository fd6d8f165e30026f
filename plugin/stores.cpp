#include "plugin/stores.h"

#include <filesystem>
#include <stdexcept>

#include "ipam/sqlite_pool_store.h"

namespace mvlan::plugin {

std::optional<Stores> open_stores(StoreUse use, const std::string& state_dir,
                                  const IpamBackend& ipam,
                                  std::vector<ipam::DefaultPool> defaults) {
  using Mode = store::Database::Mode;
  Stores stores;
  if (use == StoreUse::Serve) {
    stores.db = std::make_unique<store::Database>(database_path(state_dir), Mode::ReadWrite);
  } else if (use == StoreUse::Cluster) {
    // No local state: the host it acts on is another one.
    if (!ipam.etcd) throw std::logic_error("release-host works on etcd alone");
  } else if (ipam.etcd) {
    // The grants are in etcd; the local database only names this host's endpoints.
    const std::string path = database_path(state_dir);
    if (std::filesystem::exists(path)) {
      stores.db = std::make_unique<store::Database>(path, Mode::ReadOnly);
    }
  } else {
    const auto path = existing_database(state_dir);
    if (!path) return std::nullopt;
    stores.db = std::make_unique<store::Database>(
        *path, use == StoreUse::Edit ? Mode::ReadWrite : Mode::ReadOnly);
  }
  if (ipam.etcd) {
    stores.etcd = std::make_unique<etcd::Client>(ipam.etcd_settings);
    auto pools = std::make_unique<ipam::EtcdPoolStore>(*stores.etcd, ipam.prefix, ipam.host_id,
                                                       std::move(defaults));
    stores.cluster = pools.get();
    stores.pools = std::move(pools);
  } else {
    stores.pools = std::make_unique<ipam::SqlitePoolStore>(*stores.db, std::move(defaults));
  }
  if (stores.db) stores.networks = std::make_unique<store::NetworkStore>(*stores.db);
  return stores;
}

}  // namespace mvlan::plugin

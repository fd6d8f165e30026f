#pragma once
// The stores a command works on, opened as the options say: networks and endpoints always in the
// local SQLite database, pools and grants there too or in etcd (IpamBackend).

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "etcd/client.h"
#include "ipam/allocator.h"
#include "ipam/etcd_pool_store.h"
#include "ipam/pool_store.h"
#include "plugin/options.h"
#include "store/database.h"
#include "store/network_store.h"

namespace mvlan::plugin {

struct Stores {
  std::unique_ptr<store::Database> db;            // null: no local database (etcd only)
  std::unique_ptr<store::NetworkStore> networks;  // null exactly when db is
  std::unique_ptr<etcd::Client> etcd;             // with the etcd backend
  std::unique_ptr<ipam::PoolStore> pools;
  ipam::EtcdPoolStore* cluster = nullptr;  // pools, when in etcd: every host's view
};

// What the command does with the state.
enum class StoreUse {
  Serve,    // creates the database when missing; `defaults` picks pools for networks without one
  Inspect,  // `status`: read-only
  Edit,     // `forget`: writes grants (in etcd, the local database is only read)
  Cluster,  // `release-host`: etcd alone, no local database
};

// With SQLite, Inspect and Edit need an existing database: without one nothing is returned, after
// logging where it looked. With etcd the local database is opened when it exists (it names
// endpoints). Throws when a store cannot be opened.
std::optional<Stores> open_stores(StoreUse use, const std::string& state_dir,
                                  const IpamBackend& ipam,
                                  std::vector<ipam::DefaultPool> defaults = {});

}  // namespace mvlan::plugin

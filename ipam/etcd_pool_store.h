#pragma once
// The cluster-wide PoolStore: every host that requests the same subnet draws from one address set
// kept in etcd, and every grant is an etcd transaction that succeeds only if the address is free.
// Pools stay per host (each host's own PoolIDs, under <prefix>pools/<host>/); addresses are shared.
//
// Keys under the prefix (addresses as fixed-width hex, so key order is numeric order):
//   pools/<host>/<pool id>                 {"space","subnet","range","allocation","sticky"}
//   addr/<space>/<net hex>-<len>/<addr>    one grant: {"host","pool","kind","mac","grant","at"}
//                                          (+ "endpoint" once CreateEndpoint has named it,
//                                          + "name" when bound, + "parked" (unix ms) once its
//                                          container released it: still taken, kept for the name),
//                                          or a shared reservation: {"shared":true,"holders":[..]}
//   names/<host>/<pool id>/<name>          <addr hex>: the index of a grant's "name", written in
//                                          the same transaction, so a name finds its address in
//                                          one read (names never hold '/', host ids neither)
//   cursor/<set>/<lo>-<hi>                 round-robin hint "<epoch>/<addr>", only ever increases
//   gateway/<set>                          the set's gateway, shared by every host
//   hosts/<host>                           under a lease kept alive by `mvlan serve`

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "etcd/client.h"
#include "ipam/allocator.h"
#include "ipam/etcd_records.h"
#include "ipam/pool_store.h"

namespace mvlan::ipam {

// One address of the cluster, with who holds it.
struct ClusterGrant {
  Address address;
  GrantKind kind = GrantKind::Dynamic;
  bool shared = false;  // a gateway or aux address reserved once for every host
  std::vector<std::pair<std::string, std::string>> holders;  // (host, pool id)
  std::string mac;
  std::string endpoint;  // the Docker endpoint holding it, once its host's CreateEndpoint ran
  std::string name;      // the name bound to it (sticky addresses), "" for none
  std::optional<long long> parked_at;  // unix ms; set while parked for `name`
};

struct ClusterSet {
  std::string space;
  Prefix subnet;
  std::vector<std::pair<std::string, Pool>> pools;  // (host, pool) of every host using the set
  std::vector<ClusterGrant> grants;                 // ordered by address
};

struct ClusterStatus {
  std::vector<std::string> live_hosts;
  std::vector<ClusterSet> sets;
};

class EtcdPoolStore final : public PoolStore {
 public:
  // The store is split by what it does; each group below is defined in the file it names.

  // Pools and their status (etcd_pool_store.cpp).
  EtcdPoolStore(etcd::Client& client, std::string prefix, std::string host,
                std::vector<DefaultPool> defaults);
  Pool request_pool(const PoolSpec& spec) override;
  bool release_pool(const std::string& pool_id) override;
  std::optional<Pool> find_pool(const std::string& pool_id) override;
  std::vector<PoolStatus> status() override;
  // Reads only the subnet's own grants.
  std::vector<PoolStatus> status_of(const std::string& address_space,
                                    const Prefix& subnet) override;
  const std::string& host() const { return host_; }

  // Grants (etcd_grants.cpp).
  Cidr request_address(const std::string& pool_id, const AddressRequest& request) override;

  // What becomes of a grant (etcd_releases.cpp).
  bool release_address(const std::string& pool_id, const Address& address) override;
  // Writes the endpoint ID into the address's record when this host holds it alone (a gateway
  // or aux address is no endpoint's); a grant whose recorded MAC differs is another endpoint's.
  void record_endpoint(const Address& address, const std::string& endpoint_id,
                       const std::string& mac) override;

  // Sticky bindings (etcd_bindings.cpp).
  // This host's binding of `name` in the pool (MVLAN_HOST_ID: each host binds its own names).
  Address forget(const std::string& pool_id, const std::string& name) override;

  // The cluster as a whole (etcd_cluster_admin.cpp).
  ClusterStatus cluster_status();
  bool host_alive(const std::string& host);
  // Frees every address `host` holds alone (parked ones too) and drops its pools and bindings;
  // shared reservations (gateways, aux addresses) stay. Returns how many addresses were freed.
  size_t release_host(const std::string& host);

 private:
  // Pools, keys and bulk deletion (etcd_pool_store.cpp).
  struct LocalPool {
    Pool pool;
    std::chrono::steady_clock::time_point created;  // epoch for pools loaded at start
  };
  void load_pools();
  std::optional<LocalPool> local(const std::string& pool_id);
  std::vector<std::pair<std::string, Pool>> cluster_pools();
  std::vector<Pool> own_pools();
  // `pool`'s status from the grants of its set.
  PoolStatus status_of(const Pool& pool, const std::vector<ClusterGrant>& grants);
  std::string set_of(const Pool& pool) const;
  std::string address_key(const std::string& set, const Address& a) const;
  std::string pool_key(const std::string& host, const std::string& pool_id) const;
  std::string cursor_key(const std::string& set, const Bounds& bounds) const;
  std::string gateway_key(const std::string& set) const;
  // Deletes grant records (with their bindings), many per transaction; each only if unchanged
  // since read. Returns how many went.
  size_t erase_records(const std::vector<etcd::KeyValue>& records);

  // Grants (etcd_grants.cpp).
  std::optional<Address> nth_free(const std::string& set, const Address& from, const Address& to,
                                  size_t skip);
  nlohmann::json grant_record(const Pool& pool, GrantKind kind, const AddressRequest& request,
                              const std::string& token) const;
  Cidr grant_dynamic(const Pool& pool, const AddressRequest& request);
  Cidr grant_exclusive(const Pool& pool, const Address& a, GrantKind kind,
                       const AddressRequest& request);
  Cidr grant_shared(const Pool& pool, const Address& a, GrantKind kind, bool with_gateway_index);
  // The set's gateway: the one another host picked, else the first free one.
  Cidr grant_gateway(const Pool& pool);
  std::string describe_holder(const etcd::KeyValue& kv) const;

  // What becomes of a grant (etcd_releases.cpp).
  bool drop_holder(const std::string& set, const etcd::KeyValue& kv, const std::string& host,
                   const std::string& pool_id);

  // The cluster as a whole (etcd_cluster_admin.cpp).
  // A grant as its record under addr/ says.
  static ClusterGrant cluster_grant(const etcd::KeyValue& kv, const Address& a);

  // Sticky bindings (etcd_bindings.cpp). Every change to one rides in the transaction of the
  // grant it concerns, so the record's "name" and its index never disagree.
  struct Bound {
    etcd::KeyValue index;   // names/<host>/<pool id>/<name>
    etcd::KeyValue record;  // what it points to; mod_revision 0 when that key is gone
    // None when the record is no longer this name's (an index left by a torn change).
    std::optional<Binding> binding;
    std::string grant;  // the record's grant token
  };
  std::string name_key(const std::string& host, const std::string& pool_id,
                       const std::string& name) const;
  std::optional<Bound> find_binding(const Pool& pool, const std::string& name);
  // Binds `name` to `to` in the plan (which grants `to`), and settles its previous address.
  void bind_name(etcd_records::TxnPlan& plan, const Pool& pool, const std::string& name,
                 const std::optional<Bound>& before, const Address& to);
  // The plan changes `record` (only if unchanged since read): its name's binding goes.
  void unbind(etcd_records::TxnPlan& plan, const etcd::KeyValue& record) const;
  // A parked binding's address back to the name, with the request's MAC. False when it changed.
  bool unpark(const Bound& mine, const std::string& mac, const std::string& token);
  // The grant parked longest in `within` (the earliest mod revision among parked records: a
  // parked record is not written again until it is unparked or goes), if any.
  std::optional<etcd::KeyValue> oldest_parked(const std::string& set, const Bounds& within);

  etcd::Client& etcd_;
  std::string prefix_;
  std::string host_;
  std::vector<DefaultPool> defaults_;

  struct InFlight;
  std::atomic<size_t> in_flight_{0};
  std::mutex mutex_;  // pool creation and release on this host; grants need no local lock
  bool loaded_ = false;
  std::map<std::string, LocalPool> pools_;
};

}  // namespace mvlan::ipam

#pragma once

#include <vector>

#include "ipam/allocator.h"
#include "ipam/pool_store.h"
#include "ipam/sqlite_address_sets.h"
#include "ipam/sqlite_bindings.h"
#include "store/database.h"

namespace mvlan::ipam {

class SqlitePoolStore final : public PoolStore {
 public:
  SqlitePoolStore(store::Database& db, std::vector<DefaultPool> defaults);

  Pool request_pool(const PoolSpec& spec) override;
  bool release_pool(const std::string& pool_id) override;
  Cidr request_address(const std::string& pool_id, const AddressRequest& request) override;
  bool release_address(const std::string& pool_id, const Address& address) override;
  std::optional<Pool> find_pool(const std::string& pool_id) override;
  std::vector<PoolStatus> status() override;
  std::vector<PoolStatus> status_of(const std::string& address_space,
                                    const Prefix& subnet) override;
  Address forget(const std::string& pool_id, const std::string& name) override;

 private:
  std::optional<Pool> load_pool(const std::string& pool_id);
  // A pool's status: its allocations, cursor, capacity and bindings.
  PoolStatus status_of(const Pool& pool);
  std::vector<Pool> overlapping(const std::string& space, const Prefix& subnet);
  std::optional<Allocation> allocation_at(long long set_id, const Address& a);
  void take(const Pool& pool, const Address& a, GrantKind kind, const std::string& mac);
  void give_back(long long set_id, const Address& a);
  long long merge_sets(const std::vector<long long>& set_ids);
  // An address a request names: free, or parked (its binding is dropped); else Conflict.
  void take_over_parked(const Pool& pool, const Address& a);
  // The next dynamic address, or the one parked longest when none is free; else Exhausted.
  Address pick_free(const Pool& pool);
  // Binds `name` to `a`; `before` is the name's binding as the request found it.
  void rebind(const Pool& pool, const std::string& name, const std::optional<Binding>& before,
              const Address& a);
  void set_mac(long long set_id, const Address& a, const std::string& mac);

  store::Database& db_;
  std::vector<DefaultPool> defaults_;
  SqliteBindings bindings_;
  SqliteAddressSets sets_;
};

}  // namespace mvlan::ipam

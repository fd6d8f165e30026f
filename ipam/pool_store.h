#pragma once
// Where pools and granted addresses live. One interface, so the local SQLite store and a
// cluster-wide one can serve the same driver; each operation is atomic and durable on return.

#include <optional>
#include <string>
#include <vector>

#include "ipam/pool.h"

namespace mvlan::ipam {

class PoolStore {
 public:
  virtual ~PoolStore() = default;

  // Creates the pool (picking a default subnet when the spec has none). Throws Error(Conflict)
  // for an overlap that may not share, Error(Exhausted) when no default pool is free.
  virtual Pool request_pool(const PoolSpec& spec) = 0;
  // Frees the pool and everything granted from it. False when it did not exist.
  virtual bool release_pool(const std::string& pool_id) = 0;

  // Grants one address, returned with the pool's prefix length. Throws NotFound (pool), Invalid
  // (outside, reserved by rule), Conflict (taken) or Exhausted (no free address). In a sticky
  // pool a request with a name gets the address parked for it, and binds the name to its grant.
  virtual Cidr request_address(const std::string& pool_id, const AddressRequest& request) = 0;
  // False when the pool or the grant did not exist (releasing twice is fine). A bound address
  // is parked for its name, not freed.
  virtual bool release_address(const std::string& pool_id, const Address& address) = 0;

  // Records that endpoint `endpoint_id` (MAC `mac`) holds `address`, granted by this host, so a
  // cluster-wide view can name it; Docker's RequestAddress carries no endpoint ID, only the
  // network driver's CreateEndpoint does. A no-op where the store cannot be read without the
  // endpoint list anyway (SQLite: `mvlan status` joins the local endpoints by address).
  virtual void record_endpoint(const Address& /*address*/, const std::string& /*endpoint_id*/,
                               const std::string& /*mac*/) {}

  // Drops the parked binding of `name` in the pool and frees its address, which it returns.
  // Throws NotFound (pool, or no such binding) or Conflict (a container holds the address).
  virtual Address forget(const std::string& pool_id, const std::string& name) = 0;

  virtual std::optional<Pool> find_pool(const std::string& pool_id) = 0;
  virtual std::vector<PoolStatus> status() = 0;
  // status() of the pools on one subnet only: how the network driver finds a network's pool
  // without reading the grants of every other subnet (of every host, in a cluster).
  virtual std::vector<PoolStatus> status_of(const std::string& address_space,
                                            const Prefix& subnet) = 0;
};

}  // namespace mvlan::ipam

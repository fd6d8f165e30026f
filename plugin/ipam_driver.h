#pragma once
// The IpamDriver's handlers, typed: they validate, call the pool store and log state changes.

#include <functional>
#include <string>
#include <utility>

#include "ipam/pool_store.h"

namespace mvlan::plugin {

class IpamDriver {
 public:
  // `released` runs after every ReleaseAddress that was valid (held or not): the network driver
  // drops an endpoint that still holds the address.
  using ReleasedHook = std::function<void(const ipam::Address&)>;
  explicit IpamDriver(ipam::PoolStore& pools, ReleasedHook released = {})
      : pools_(pools), released_(std::move(released)) {}

  ipam::Pool request_pool(const ipam::PoolRequest& request);
  void release_pool(const std::string& pool_id);
  // A name that cannot be a container's is logged and ignored: it never fails a start.
  ipam::Cidr request_address(const std::string& pool_id, ipam::AddressRequest request);
  void release_address(const std::string& pool_id, const ipam::Address& address);

 private:
  ipam::PoolStore& pools_;
  ReleasedHook released_;
};

}  // namespace mvlan::plugin

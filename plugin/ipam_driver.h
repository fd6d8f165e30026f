#pragma once
// The IpamDriver's handlers, typed: they validate, call the pool store and log state changes.

#include <string>

#include "ipam/pool_store.h"

namespace mvlan::plugin {

class IpamDriver {
 public:
  explicit IpamDriver(ipam::PoolStore& pools) : pools_(pools) {}

  ipam::Pool request_pool(const ipam::PoolRequest& request);
  void release_pool(const std::string& pool_id);
  ipam::Cidr request_address(const std::string& pool_id, const ipam::AddressRequest& request);
  void release_address(const std::string& pool_id, const ipam::Address& address);

 private:
  ipam::PoolStore& pools_;
};

}  // namespace mvlan::plugin

#include "plugin/ipam_driver.h"

#include "common/error.h"
#include "common/log.h"
#include "common/quote.h"
#include "ipam/allocator.h"
#include "ipam/binding_key.h"

namespace mvlan::plugin {

ipam::Pool IpamDriver::request_pool(const ipam::PoolRequest& request) {
  const ipam::PoolSpec spec = ipam::validate_pool_request(request);
  ipam::Pool pool = pools_.request_pool(spec);
  log::info("pool " + pool.id + " created" +
            (pool.range ? " (ip-range " + pool.range->str() + ")" : std::string()));
  return pool;
}

void IpamDriver::release_pool(const std::string& pool_id) {
  if (pool_id.empty()) throw invalid("field PoolID must not be empty");
  if (pools_.release_pool(pool_id)) {
    log::info("pool " + pool_id + " released with every address granted from it");
  } else {
    log::debug("pool " + pool_id + " was already released");
  }
}

ipam::Cidr IpamDriver::request_address(const std::string& pool_id, ipam::AddressRequest request) {
  if (pool_id.empty()) throw invalid("field PoolID must not be empty");
  if (!request.name.empty()) {
    auto key = ipam::binding_key(request.name);
    if (!key) {
      log::warn("endpoint name " + quote(request.name, 80) +
                " is not a container name: the address is granted but bound to no name");
    }
    request.name = key.value_or("");
  }
  const ipam::Cidr granted = pools_.request_address(pool_id, request);
  log::info("granted " + granted.address.str() + " from pool " + pool_id +
            (request.gateway       ? " (gateway)"
             : request.mac.empty() ? ""
                                   : " to MAC " + request.mac) +
            (request.name.empty() ? "" : " for " + request.name));
  return granted;
}

void IpamDriver::release_address(const std::string& pool_id, const ipam::Address& address) {
  if (pool_id.empty()) throw invalid("field PoolID must not be empty");
  if (pools_.release_address(pool_id, address)) {
    log::info("released " + address.str() + " to pool " + pool_id);
  } else {
    log::debug("release of " + address.str() + " in pool " + pool_id + ": not held, nothing to do");
  }
  if (released_) released_(address);
}

}  // namespace mvlan::plugin

#include "etcd/host_lease.h"

#include "common/error.h"
#include "common/log.h"

namespace mvlan::etcd {

HostLease::HostLease(Client& client, std::string key, std::string identity)
    : etcd_(client), key_(std::move(key)), identity_(std::move(identity)) {}

HostLease::~HostLease() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (lease_) {
    try {
      etcd_.revoke(lease_);
    } catch (const std::exception&) {
      // etcd unreachable: the key expires with its lease anyway.
    }
  }
}

void HostLease::claim() {
  auto kvs = etcd_.range(key_).kvs;
  // The same identity is this plugin's previous run (crashed or restarted within the TTL).
  if (!kvs.empty() && kvs[0].value != identity_) {
    throw conflict("etcd key " + key_ + " is held by another live mvlan (" + kvs[0].value +
                   "); give every host its own MVLAN_HOST_ID");
  }
  renew();
}

void HostLease::start() {
  thread_ = std::thread([this] { run(); });
}

bool HostLease::renew() {
  if (lease_ && etcd_.keep_alive(lease_)) return true;
  lease_ = etcd_.grant_lease(kTtlSeconds);
  etcd_.put(key_, identity_, lease_);
  return true;
}

void HostLease::run() {
  bool failing = false;
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stopping_) {
    lock.unlock();
    try {
      renew();
      if (failing) log::warn("etcd reachable again; " + key_ + " renewed");
      failing = false;
    } catch (const std::exception& e) {
      if (!failing) log::warn(std::string("cannot renew ") + key_ + ": " + e.what());
      failing = true;
    }
    lock.lock();
    wake_.wait_for(lock, std::chrono::seconds(kTtlSeconds / 3), [this] { return stopping_; });
  }
}

}  // namespace mvlan::etcd

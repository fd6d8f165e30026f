#pragma once
// "This host's plugin is alive": <prefix>hosts/<host> under an etcd lease that `mvlan serve` keeps
// alive. It vanishes within the TTL of a crash or a lost host, so `mvlan release-host` can tell a
// dead host (safe to free) from a live one (refused without --force).

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "etcd/client.h"

namespace mvlan::etcd {

class HostLease {
 public:
  static constexpr int kTtlSeconds = 10;

  // `identity` tells this host's plugin from another one that was given the same host id.
  // Renewal failures, and the recovery after them, are logged as warnings.
  HostLease(Client& client, std::string key, std::string identity);
  ~HostLease();  // revokes the lease: the key goes at once on a clean stop
  HostLease(const HostLease&) = delete;
  HostLease& operator=(const HostLease&) = delete;

  // Throws Error(Conflict) when another live plugin holds the key (two hosts, one MVLAN_HOST_ID),
  // Error(Store) when etcd cannot be asked; the caller may serve anyway and let the lease come
  // later (running containers need no etcd).
  void claim();
  void start();

 private:
  void run();
  bool renew();

  Client& etcd_;
  std::string key_, identity_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  long long lease_ = 0;
  std::thread thread_;
};

}  // namespace mvlan::etcd

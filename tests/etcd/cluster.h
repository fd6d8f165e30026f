#pragma once
// A real three-member etcd cluster on 127.0.0.1 for one test (tests/etcd/etcd_cluster.sh):
// started healthy on free ports in a fresh directory, removed on destruction, even on failure.

#include <string>
#include <vector>

namespace mvlan::test {

class EtcdCluster {
 public:
  EtcdCluster();
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  const std::string& endpoints() const { return endpoints_; }
  void kill(int member);     // SIGKILL member 1..3; its data stays
  void restore(int member);  // start it again and wait until it is healthy

  // The environment that points `mvlan` at this cluster as `host`, under a prefix of its own.
  std::vector<std::string> env(const std::string& host) const;

 private:
  std::string dir_, endpoints_, prefix_;
};

// Runs a shell command; returns its stdout and stderr, and the exit status in *code.
std::string shell(const std::string& command, int* code = nullptr);

}  // namespace mvlan::test

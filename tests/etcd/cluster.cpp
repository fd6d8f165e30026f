#include "tests/etcd/cluster.h"

#include <stdlib.h>
#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <stdexcept>

namespace mvlan::test {

std::string shell(const std::string& command, int* code) {
  std::string out;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (!p) throw std::runtime_error("popen failed");
  std::array<char, 4096> buf{};
  size_t n = 0;
  while ((n = std::fread(buf.data(), 1, buf.size(), p)) > 0) out.append(buf.data(), n);
  const int status = ::pclose(p);
  if (code) *code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return out;
}

EtcdCluster::EtcdCluster() {
  char tmpl[] = "/tmp/mvlan-etcd-XXXXXX";
  if (!::mkdtemp(tmpl)) throw std::runtime_error("mkdtemp failed");
  dir_ = tmpl;
  prefix_ = "/mvlan-test" + dir_.substr(dir_.rfind('-')) + "/";
  int code = 0;
  std::string out;
  // A port picked free can still be taken before etcd binds it (another test's listener): new
  // ports, up to three tries.
  for (int attempt = 0; attempt < 3; ++attempt) {
    out = shell(std::string(MVLAN_ETCD_CLUSTER_SH) + " start " + dir_, &code);
    if (code == 0) break;
    shell(std::string(MVLAN_ETCD_CLUSTER_SH) + " stop " + dir_);
    if (out.find("address already in use") == std::string::npos) break;
  }
  if (code != 0) throw std::runtime_error("etcd cluster did not start: " + out);
  while (!out.empty() && (out.back() == '\n' || out.back() == ' ')) out.pop_back();
  endpoints_ = out.substr(out.rfind('\n') == std::string::npos ? 0 : out.rfind('\n') + 1);
}

EtcdCluster::~EtcdCluster() {
  shell(std::string(MVLAN_ETCD_CLUSTER_SH) + " stop " + dir_);
}

void EtcdCluster::kill(int member) {
  shell(std::string(MVLAN_ETCD_CLUSTER_SH) + " kill " + dir_ + " " + std::to_string(member));
}

void EtcdCluster::restore(int member) {
  int code = 0;
  const std::string out = shell(
      std::string(MVLAN_ETCD_CLUSTER_SH) + " restore " + dir_ + " " + std::to_string(member),
      &code);
  if (code != 0) throw std::runtime_error("etcd member did not come back: " + out);
}

std::vector<std::string> EtcdCluster::env(const std::string& host) const {
  return {"MVLAN_IPAM_BACKEND=etcd", "MVLAN_ETCD_ENDPOINTS=" + endpoints_,
          "MVLAN_ETCD_PREFIX=" + prefix_, "MVLAN_HOST_ID=" + host};
}

}  // namespace mvlan::test

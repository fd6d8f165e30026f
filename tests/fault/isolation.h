#pragma once
// Private network and mount namespaces for a fault test (and the daemon it forks): links and
// mounts made here never reach the host, and vanish with the test process.

#include <sched.h>
#include <sys/mount.h>

#include <cerrno>
#include <filesystem>
#include <memory>
#include <string>
#include <system_error>

#include "netlink/libnl_kernel.h"
#include "tests/support/netlink_probe.h"

namespace mvlan::test {

inline void check_sys(int rc, const std::string& what) {
  if (rc != 0) throw std::system_error(errno, std::generic_category(), what);
}

// Enters the namespaces and makes the veth pair `parent` / `parent`-peer, both up, to serve as a
// network's parent. Only the calling thread moves: construct it before starting any thread.
struct Isolation {
  explicit Isolation(const std::string& parent) {
    check_sys(::unshare(CLONE_NEWNS | CLONE_NEWNET), "unshare");
    check_sys(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr), "make / rprivate");
    nl = std::make_unique<kernel::Netlink>();
    create_veth_pair(parent, parent + "-peer");
    nl->set_up(parent);
    nl->set_up(parent + "-peer");
  }
  std::unique_ptr<kernel::Netlink> nl;
};

// A tmpfs on `target` (created if missing), lazily unmounted on destruction.
struct Tmpfs {
  Tmpfs(const std::string& target, const std::string& options) : target_(target) {
    std::filesystem::create_directories(target);
    check_sys(::mount("tmpfs", target.c_str(), "tmpfs", 0, options.c_str()), "mount " + target);
  }
  ~Tmpfs() { ::umount2(target_.c_str(), MNT_DETACH); }
  Tmpfs(const Tmpfs&) = delete;
  Tmpfs& operator=(const Tmpfs&) = delete;
  std::string target_;
};

}  // namespace mvlan::test

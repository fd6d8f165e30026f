#pragma once
// The real kernel: links made and read through libnl-route, never through `ip` or a shell.

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "netlink/kernel.h"

struct nl_sock;

namespace mvlan::kernel {

// Acts on the network namespace the constructing thread was in: the socket is bound to it then.
// Every method may be called from several threads at once (one socket, one mutex).
class Netlink final : public Kernel {
 public:
  Netlink();
  ~Netlink() override;
  Netlink(const Netlink&) = delete;
  Netlink& operator=(const Netlink&) = delete;

  std::optional<Link> find_link(const std::string& name) override;
  std::vector<Link> list_links() override;
  void create_vlan(const std::string& base, int vid, const std::string& name) override;
  void create_dummy(const std::string& name) override;
  // An all-zero `mac` lets the kernel pick a random one.
  void create_macvlan(const std::string& parent, const std::string& name, MacvlanMode mode,
                      const Mac& mac, unsigned mtu) override;
  bool delete_link(const std::string& name) override;
  void set_up(const std::string& name) override;
  bool add_address(const std::string& link, const std::string& cidr) override;
  bool add_route(const std::string& dst, const std::string& link,
                 const std::string& source) override;
  bool delete_route(const std::string& dst, const std::string& link) override;

 private:
  struct SockDeleter {
    void operator()(nl_sock* sock) const;
  };

  std::mutex mutex_;
  std::unique_ptr<nl_sock, SockDeleter> sock_;
};

// Linux refuses interface names longer than this (IFNAMSIZ - 1).
inline constexpr std::size_t kMaxLinkNameLength = 15;

}  // namespace mvlan::kernel

#include "netlink/libnl_kernel.h"

#include <linux/if_link.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netlink/errno.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vlan.h>

#include <filesystem>
#include <functional>

#include "netlink/libnl_support.h"

namespace mvlan::kernel {
namespace {

using namespace libnl;

// The three kinds whose absence from the kernel a user fixes by loading a module.
struct KindSupport {
  const char* what;    // "802.1Q VLAN"
  const char* module;  // "8021q"
};
constexpr KindSupport kVlanSupport{"802.1Q VLAN", "8021q"};
constexpr KindSupport kDummySupport{"dummy link", "dummy"};
constexpr KindSupport kMacvlanSupport{"macvlan", "macvlan"};

[[noreturn]] void fail_missing_kind(const std::string& step, const KindSupport& kind, int err) {
  fail(step,
       std::string("the kernel has no ") + kind.what + " support (module " + kind.module +
           "); load it with 'modprobe " + kind.module + "'",
       err);
}

std::uint32_t mode_to_kernel(MacvlanMode mode) {
  switch (mode) {
    case MacvlanMode::Bridge: return MACVLAN_MODE_BRIDGE;
    case MacvlanMode::Private: return MACVLAN_MODE_PRIVATE;
    case MacvlanMode::Vepa: return MACVLAN_MODE_VEPA;
    case MacvlanMode::Passthru: return MACVLAN_MODE_PASSTHRU;
  }
  return MACVLAN_MODE_BRIDGE;
}

// `name` is already another link's: every step that creates a link says so alike.
[[noreturn]] void fail_taken(const std::string& step, const std::string& name, int err) {
  fail(step, "a link named " + name + " already exists; delete it or choose another name", err);
}

void check_absent(nl_sock* sock, const std::string& name, const std::string& step) {
  if (fetch(sock, name, step)) fail_taken(step, name, -NLE_EXIST);
}

// The link a new one is stacked on, which must exist; `role` ("base", "parent") names it.
Fetched existing_lower(nl_sock* sock, const std::string& name, const std::string& role,
                       const std::string& step) {
  auto lower = fetch(sock, name, step);
  if (!lower) {
    fail(step, role + " link " + name + " does not exist; create it or pick an existing link",
         -NLE_NODEV);
  }
  return std::move(*lower);
}

// A new link of libnl's kind `alloc`, named `name`, on top of `lower`; not yet in the kernel.
LinkPtr new_link_on(rtnl_link* (*alloc)(), const std::string& name, const Fetched& lower,
                    const std::string& step) {
  LinkPtr link(alloc());
  if (!link) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_name(link.get(), name.c_str());
  rtnl_link_set_link(link.get(), lower.link.index);
  return link;
}

void bring_up(nl_sock* sock, rtnl_link* orig, const std::string& step) {
  LinkPtr change(rtnl_link_alloc());
  if (!change) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_flags(change.get(), IFF_UP);
  if (const int err = rtnl_link_change(sock, orig, change.get(), 0); err < 0) fail_libnl(step, err);
}

// Creates the link, then brings it up; a link that cannot be brought up is deleted again.
void add_and_bring_up(nl_sock* sock, rtnl_link* link, const std::string& name,
                      const std::string& step, const std::function<void(int)>& explain) {
  if (const int err = rtnl_link_add(sock, link, NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    explain(err);
    if (err == -NLE_EXIST) fail_taken(step, name, err);
    fail_libnl(step, err);
  }
  try {
    auto created = fetch(sock, name, step);
    if (!created) fail(step, "the link vanished right after it was created; retry", -NLE_NODEV);
    bring_up(sock, created->raw.get(), step + ", bringing it up");
  } catch (const KernelError&) {
    LinkPtr victim(rtnl_link_alloc());
    if (victim) {
      rtnl_link_set_name(victim.get(), name.c_str());
      rtnl_link_delete(sock, victim.get());
    }
    throw;
  }
}

}  // namespace

void Netlink::SockDeleter::operator()(nl_sock* sock) const {
  nl_socket_free(sock);
}

Netlink::Netlink() {
  sock_.reset(open_route_socket().release());
}

Netlink::~Netlink() = default;

std::optional<Link> Netlink::find_link(const std::string& name) {
  std::lock_guard lock(mutex_);
  auto found = fetch(sock_.get(), name, "looking up link " + name);
  if (!found) return std::nullopt;
  return std::move(found->link);
}

std::vector<Link> Netlink::list_links() {
  std::lock_guard lock(mutex_);
  return dump(sock_.get(), "listing links");
}

void Netlink::create_vlan(const std::string& base, int vid, const std::string& name) {
  const std::string step =
      "creating VLAN link " + name + " (VLAN " + std::to_string(vid) + " on " + base + ")";
  check_name(step, name);
  if (vid < 1 || vid > 4094) {
    fail(step, "VLAN id " + std::to_string(vid) + " is outside 1-4094; choose an id in that range",
         -NLE_RANGE);
  }
  std::lock_guard lock(mutex_);
  const Fetched lower = existing_lower(sock_.get(), base, "base", step);
  if (rtnl_link_get_flags(lower.raw.get()) & IFF_LOOPBACK) {
    fail(step, base + " is a loopback link, which cannot carry VLANs; pick a network interface",
         -NLE_OPNOTSUPP);
  }
  check_absent(sock_.get(), name, step);

  LinkPtr link = new_link_on(rtnl_link_vlan_alloc, name, lower, step);
  if (const int err = rtnl_link_vlan_set_id(link.get(), static_cast<std::uint16_t>(vid)); err < 0) {
    fail_libnl(step, err);
  }
  add_and_bring_up(sock_.get(), link.get(), name, step, [&](int err) {
    if (err != -NLE_OPNOTSUPP) return;
    // 8021q answers EOPNOTSUPP itself for a base that cannot tag; its proc dir shows it is loaded.
    std::error_code ignored;
    if (std::filesystem::exists("/proc/thread-self/net/vlan", ignored)) {
      fail(step, base + " cannot carry 802.1Q VLANs (its driver refuses them); pick another base",
           err);
    }
    fail_missing_kind(step, kVlanSupport, err);
  });
}

void Netlink::create_dummy(const std::string& name) {
  const std::string step = "creating dummy link " + name;
  check_name(step, name);
  std::lock_guard lock(mutex_);
  check_absent(sock_.get(), name, step);
  LinkPtr link(rtnl_link_alloc());
  if (!link) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_name(link.get(), name.c_str());
  if (const int err = rtnl_link_set_type(link.get(), "dummy"); err < 0) fail_libnl(step, err);
  add_and_bring_up(sock_.get(), link.get(), name, step, [&](int err) {
    if (err == -NLE_OPNOTSUPP) fail_missing_kind(step, kDummySupport, err);
  });
}

void Netlink::create_macvlan(const std::string& parent, const std::string& name, MacvlanMode mode,
                             const Mac& mac, unsigned mtu) {
  const std::string step =
      std::string("creating ") + name_of(mode) + " macvlan link " + name + " on " + parent;
  check_name(step, name);
  if (!is_zero(mac) && is_multicast(mac)) {
    fail(step, "MAC " + format_mac(mac) + " is a multicast address; give a unicast MAC",
         -NLE_NOADDR);
  }
  std::lock_guard lock(mutex_);
  const Fetched lower = existing_lower(sock_.get(), parent, "parent", step);
  if ((rtnl_link_get_flags(lower.raw.get()) & IFF_LOOPBACK) ||
      rtnl_link_get_arptype(lower.raw.get()) != ARPHRD_ETHER) {
    fail(step, parent + " is not an Ethernet link, so it cannot be a macvlan parent; pick a NIC",
         -NLE_INVAL);
  }
  if (mtu > lower.link.mtu) {
    fail(step,
         "MTU " + std::to_string(mtu) + " is above the MTU " + std::to_string(lower.link.mtu) +
             " of parent " + parent + "; use at most " + std::to_string(lower.link.mtu) +
             " or raise " + parent + "'s MTU first",
         -NLE_INVAL);
  }
  check_absent(sock_.get(), name, step);

  LinkPtr link = new_link_on(rtnl_link_macvlan_alloc, name, lower, step);
  if (const int err = rtnl_link_macvlan_set_mode(link.get(), mode_to_kernel(mode)); err < 0) {
    fail_libnl(step, err);
  }
  if (mtu != 0) rtnl_link_set_mtu(link.get(), mtu);
  if (!is_zero(mac)) {
    AddrPtr addr(nl_addr_build(AF_LLC, mac.data(), mac.size()));
    if (!addr) fail_libnl(step, -NLE_NOMEM);
    rtnl_link_set_addr(link.get(), addr.get());  // takes its own reference
  }
  // Left down on purpose: Docker moves it into the container and brings it up there.
  const int err = rtnl_link_add(sock_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err >= 0) return;
  if (err == -NLE_OPNOTSUPP) fail_missing_kind(step, kMacvlanSupport, err);
  if (err == -NLE_EXIST) fail_taken(step, name, err);
  if (err == -NLE_INVAL) {
    // The kernel's EINVAL here usually means passthru exclusivity; find the links involved.
    // A macvlan on a macvlan really sits on that one's parent, as the kernel does it.
    const int port = lower.link.kind == "macvlan" ? lower.link.parent_index : lower.link.index;
    std::string siblings;
    for (const Link& other : dump(sock_.get(), step)) {
      if (other.kind != "macvlan" || other.parent_index != port) continue;
      if (other.macvlan_mode == MacvlanMode::Passthru) {
        fail(step,
             "parent " + parent + " is held by passthru macvlan link " + other.name +
                 ", which must be the only macvlan on its parent; delete " + other.name +
                 " or use another parent",
             err);
      }
      siblings += (siblings.empty() ? "" : ", ") + other.name;
    }
    if (mode == MacvlanMode::Passthru && !siblings.empty()) {
      fail(step,
           "a passthru macvlan needs its parent to itself, but " + parent +
               " already carries macvlan link(s) " + siblings +
               "; delete them, use another parent or another mode",
           err);
    }
  }
  if (err == -NLE_NOADDR) {
    fail(step, "the kernel refused MAC " + format_mac(mac) + "; give a valid unicast MAC", err);
  }
  fail_libnl(step, err);
}

bool Netlink::delete_link(const std::string& name) {
  if (!name_can_exist(name)) return false;
  const std::string step = "deleting link " + name;
  std::lock_guard lock(mutex_);
  LinkPtr link(rtnl_link_alloc());
  if (!link) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_name(link.get(), name.c_str());
  const int err = rtnl_link_delete(sock_.get(), link.get());
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return false;
  if (err < 0) fail_libnl(step, err);
  return true;
}

void Netlink::set_up(const std::string& name) {
  const std::string step = "bringing link " + name + " up";
  std::lock_guard lock(mutex_);
  auto link = fetch(sock_.get(), name, step);
  if (!link) fail(step, "link " + name + " does not exist", -NLE_NODEV);
  bring_up(sock_.get(), link->raw.get(), step);
}

}  // namespace mvlan::kernel

#include "netlink/libnl_kernel.h"

#include <net/if.h>
#include <arpa/inet.h>
#include <net/if_arp.h>

#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <netlink/addr.h>
#include <netlink/errno.h>
#include <netlink/route/addr.h>
#include <netlink/route/route.h>
#include <netlink/route/link.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/veth.h>
#include <netlink/route/link/vlan.h>
#include <netlink/socket.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <functional>

namespace mvlan::kernel {
namespace {

struct LinkDeleter {
  void operator()(rtnl_link* link) const { rtnl_link_put(link); }
};
struct CacheDeleter {
  void operator()(nl_cache* cache) const { nl_cache_free(cache); }
};
struct AddrDeleter {
  void operator()(nl_addr* addr) const { nl_addr_put(addr); }
};
struct RtAddrDeleter {
  void operator()(rtnl_addr* addr) const { rtnl_addr_put(addr); }
};
struct RouteDeleter {
  void operator()(rtnl_route* route) const { rtnl_route_put(route); }
};
using LinkPtr = std::unique_ptr<rtnl_link, LinkDeleter>;
using RtAddrPtr = std::unique_ptr<rtnl_addr, RtAddrDeleter>;
using RoutePtr = std::unique_ptr<rtnl_route, RouteDeleter>;
using CachePtr = std::unique_ptr<nl_cache, CacheDeleter>;
using AddrPtr = std::unique_ptr<nl_addr, AddrDeleter>;

// The three kinds whose absence from the kernel a user fixes by loading a module.
struct KindSupport {
  const char* what;    // "802.1Q VLAN"
  const char* module;  // "8021q"
};
constexpr KindSupport kVlanSupport{"802.1Q VLAN", "8021q"};
constexpr KindSupport kDummySupport{"dummy link", "dummy"};
constexpr KindSupport kMacvlanSupport{"macvlan", "macvlan"};

std::string libnl_text(int err) {
  return std::string(nl_geterror(err)) + " (libnl error " + std::to_string(err) + ")";
}

[[noreturn]] void fail(const std::string& step, const std::string& problem, int code) {
  throw KernelError(step + ": " + problem, code);
}

// The fixes every step shares; step-specific causes are explained before this is reached.
[[noreturn]] void fail_libnl(const std::string& step, int err) {
  switch (-err) {
    case NLE_PERM:
    case NLE_NOACCESS:
      fail(step, "permission denied; the plugin needs CAP_NET_ADMIN (run it as root)", err);
    case NLE_NOMEM:
      fail(step, "the kernel or libnl ran out of memory; retry, and check the host's memory", err);
    default:
      fail(step, "the kernel refused: " + libnl_text(err), err);
  }
}

[[noreturn]] void fail_missing_kind(const std::string& step, const KindSupport& kind, int err) {
  fail(step,
       std::string("the kernel has no ") + kind.what + " support (module " + kind.module +
           "); load it with 'modprobe " + kind.module + "'",
       err);
}

// Mirrors the kernel's dev_valid_name(), because libnl silently truncates a long name.
void check_name(const std::string& step, const std::string& name) {
  if (name.size() > kMaxLinkNameLength) {
    fail(step,
         "the link name '" + name + "' is " + std::to_string(name.size()) +
             " characters, the kernel allows at most " + std::to_string(kMaxLinkNameLength) +
             "; choose a shorter name",
         -NLE_RANGE);
  }
  const bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
           c == '\v' || c == '\f' || c == '\0';
  });
  if (name.empty() || name == "." || name == ".." || bad_char) {
    fail(step,
         "'" + name +
             "' is not a valid link name (1-15 characters, no '/', ':' or whitespace, not '.' "
             "or '..'); choose another name",
         -NLE_INVAL);
  }
}

bool name_can_exist(const std::string& name) {
  return !name.empty() && name.size() <= kMaxLinkNameLength;
}

std::string format_mac(const Mac& mac) {
  char text[18];
  std::snprintf(text, sizeof text, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2],
                mac[3], mac[4], mac[5]);
  return text;
}

bool is_zero(const Mac& mac) {
  return std::all_of(mac.begin(), mac.end(), [](std::uint8_t b) { return b == 0; });
}

std::optional<MacvlanMode> mode_from_kernel(std::uint32_t mode) {
  switch (mode) {
    case MACVLAN_MODE_BRIDGE: return MacvlanMode::Bridge;
    case MACVLAN_MODE_PRIVATE: return MacvlanMode::Private;
    case MACVLAN_MODE_VEPA: return MacvlanMode::Vepa;
    case MACVLAN_MODE_PASSTHRU: return MacvlanMode::Passthru;
    default: return std::nullopt;  // "source" mode: the plugin never makes one
  }
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

Link to_link(rtnl_link* raw) {
  Link link;
  const char* name = rtnl_link_get_name(raw);
  link.name = name ? name : "";
  link.index = rtnl_link_get_ifindex(raw);
  const char* kind = rtnl_link_get_type(raw);
  link.kind = kind ? kind : "";
  link.mtu = rtnl_link_get_mtu(raw);
  link.up = (rtnl_link_get_flags(raw) & IFF_UP) != 0;
  if (nl_addr* addr = rtnl_link_get_addr(raw); addr && nl_addr_get_len(addr) == link.mac.size()) {
    std::memcpy(link.mac.data(), nl_addr_get_binary_addr(addr), link.mac.size());
  }
  // A veth's IFLA_LINK is its peer, not a lower link, so only stacked kinds report a parent.
  if (link.kind == "macvlan" || link.kind == "vlan") link.parent_index = rtnl_link_get_link(raw);
  if (link.kind == "vlan") link.vlan_id = std::max(0, rtnl_link_vlan_get_id(raw));
  if (link.kind == "macvlan") link.macvlan_mode = mode_from_kernel(rtnl_link_macvlan_get_mode(raw));
  return link;
}

// The raw libnl object too, for callers that need flags or the hardware type.
struct Fetched {
  LinkPtr raw;
  Link link;
};

std::optional<Fetched> fetch(nl_sock* sock, const std::string& name, const std::string& step) {
  if (!name_can_exist(name)) return std::nullopt;
  rtnl_link* raw = nullptr;
  const int err = rtnl_link_get_kernel(sock, 0, name.c_str(), &raw);
  LinkPtr owned(raw);
  if (err == -NLE_NODEV || err == -NLE_OBJ_NOTFOUND) return std::nullopt;
  if (err < 0) fail_libnl(step, err);
  Link link = to_link(owned.get());
  return Fetched{std::move(owned), std::move(link)};
}

std::vector<Link> dump(nl_sock* sock, const std::string& step) {
  nl_cache* raw = nullptr;
  const int err = rtnl_link_alloc_cache(sock, AF_UNSPEC, &raw);
  CachePtr cache(raw);
  if (err < 0) fail_libnl(step, err);
  std::vector<Link> links;
  for (nl_object* obj = nl_cache_get_first(cache.get()); obj; obj = nl_cache_get_next(obj)) {
    links.push_back(to_link(reinterpret_cast<rtnl_link*>(obj)));
  }
  return links;
}

void check_absent(nl_sock* sock, const std::string& name, const std::string& step) {
  if (fetch(sock, name, step)) {
    fail(step, "a link named " + name + " already exists; delete it or choose another name",
         -NLE_EXIST);
  }
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
    if (err == -NLE_EXIST) {
      fail(step, "a link named " + name + " already exists; delete it or choose another name", err);
    }
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


// "192.0.2.7/32" -> an nl_addr; anything else is the caller's mistake, named in the error.
AddrPtr parse_prefix(const std::string& step, const std::string& text) {
  nl_addr* raw = nullptr;
  const bool slash = text.find('/') != std::string::npos;
  if (!slash || nl_addr_parse(text.c_str(), AF_UNSPEC, &raw) < 0 ||
      (nl_addr_get_family(raw) != AF_INET && nl_addr_get_family(raw) != AF_INET6)) {
    if (raw) nl_addr_put(raw);
    fail(step, "'" + text + "' is not an IPv4 or IPv6 prefix such as 192.0.2.7/32", -NLE_INVAL);
  }
  return AddrPtr(raw);
}

// Plain text of an IP nl_addr followed by /length (nl_addr2str leaves out a full length).
std::string prefix_text(nl_addr* addr) {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(nl_addr_get_family(addr), nl_addr_get_binary_addr(addr), text, sizeof text);
  return std::string(text) + "/" + std::to_string(nl_addr_get_prefixlen(addr));
}

std::string plain_text(nl_addr* addr) {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(nl_addr_get_family(addr), nl_addr_get_binary_addr(addr), text, sizeof text);
  return text;
}

int require_index(nl_sock* sock, const std::string& link, const std::string& step) {
  auto found = fetch(sock, link, step);
  if (!found) fail(step, "link " + link + " does not exist", -NLE_NODEV);
  return found->link.index;
}

// A main-table route to `dst` out of link `index`, as add_route makes and delete_route matches.
RoutePtr route_to(const std::string& step, nl_addr* dst, int index) {
  RoutePtr route(rtnl_route_alloc());
  rtnl_nexthop* hop = rtnl_route_nh_alloc();
  if (!route || !hop) {
    if (hop) rtnl_route_nh_free(hop);
    fail_libnl(step, -NLE_NOMEM);
  }
  rtnl_route_set_family(route.get(), static_cast<std::uint8_t>(nl_addr_get_family(dst)));
  rtnl_route_set_table(route.get(), RT_TABLE_MAIN);
  rtnl_route_set_type(route.get(), RTN_UNICAST);
  rtnl_route_set_protocol(route.get(), RTPROT_STATIC);
  if (const int err = rtnl_route_set_dst(route.get(), dst); err < 0) fail_libnl(step, err);
  rtnl_route_nh_set_ifindex(hop, index);
  rtnl_route_add_nexthop(route.get(), hop);  // the route owns the hop from here
  return route;
}

}  // namespace

const char* to_string(MacvlanMode mode) {
  switch (mode) {
    case MacvlanMode::Bridge: return "bridge";
    case MacvlanMode::Private: return "private";
    case MacvlanMode::Vepa: return "vepa";
    case MacvlanMode::Passthru: return "passthru";
  }
  return "unknown";
}

void Netlink::SockDeleter::operator()(nl_sock* sock) const { nl_socket_free(sock); }

Netlink::Netlink() {
  const std::string step = "opening a netlink route socket";
  sock_.reset(nl_socket_alloc());
  if (!sock_) fail_libnl(step, -NLE_NOMEM);
  if (const int err = nl_connect(sock_.get(), NETLINK_ROUTE); err < 0) fail_libnl(step, err);
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
  auto lower = fetch(sock_.get(), base, step);
  if (!lower) {
    fail(step, "base link " + base + " does not exist; create it or pick an existing link",
         -NLE_NODEV);
  }
  if (rtnl_link_get_flags(lower->raw.get()) & IFF_LOOPBACK) {
    fail(step, base + " is a loopback link, which cannot carry VLANs; pick a network interface",
         -NLE_OPNOTSUPP);
  }
  check_absent(sock_.get(), name, step);

  LinkPtr link(rtnl_link_vlan_alloc());
  if (!link) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_name(link.get(), name.c_str());
  rtnl_link_set_link(link.get(), lower->link.index);
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
      std::string("creating ") + to_string(mode) + " macvlan link " + name + " on " + parent;
  check_name(step, name);
  if (!is_zero(mac) && (mac[0] & 0x01)) {
    fail(step, "MAC " + format_mac(mac) + " is a multicast address; give a unicast MAC",
         -NLE_NOADDR);
  }
  std::lock_guard lock(mutex_);
  auto lower = fetch(sock_.get(), parent, step);
  if (!lower) {
    fail(step, "parent link " + parent + " does not exist; create it or pick an existing link",
         -NLE_NODEV);
  }
  if ((rtnl_link_get_flags(lower->raw.get()) & IFF_LOOPBACK) ||
      rtnl_link_get_arptype(lower->raw.get()) != ARPHRD_ETHER) {
    fail(step, parent + " is not an Ethernet link, so it cannot be a macvlan parent; pick a NIC",
         -NLE_INVAL);
  }
  if (mtu > lower->link.mtu) {
    fail(step,
         "MTU " + std::to_string(mtu) + " is above the MTU " + std::to_string(lower->link.mtu) +
             " of parent " + parent + "; use at most " + std::to_string(lower->link.mtu) +
             " or raise " + parent + "'s MTU first",
         -NLE_INVAL);
  }
  check_absent(sock_.get(), name, step);

  LinkPtr link(rtnl_link_macvlan_alloc());
  if (!link) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_name(link.get(), name.c_str());
  rtnl_link_set_link(link.get(), lower->link.index);
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
  if (err == -NLE_EXIST) {
    fail(step, "a link named " + name + " already exists; delete it or choose another name", err);
  }
  if (err == -NLE_INVAL) {
    // The kernel's EINVAL here usually means passthru exclusivity; find the links involved.
    // A macvlan on a macvlan really sits on that one's parent, as the kernel does it.
    const int port = lower->link.kind == "macvlan" ? lower->link.parent_index : lower->link.index;
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

void Netlink::create_veth_pair(const std::string& a, const std::string& b) {
  const std::string step = "creating veth pair " + a + " / " + b;
  check_name(step, a);
  check_name(step, b);
  std::lock_guard lock(mutex_);
  LinkPtr link(rtnl_link_veth_alloc());
  if (!link) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_name(link.get(), a.c_str());
  LinkPtr peer(rtnl_link_veth_get_peer(link.get()));  // a new reference to the peer
  rtnl_link_set_name(peer.get(), b.c_str());
  if (const int err = rtnl_link_add(sock_.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    if (err == -NLE_EXIST) {
      fail(step, "a link named " + a + " or " + b + " already exists; delete it first", err);
    }
    fail_libnl(step, err);
  }
}

void Netlink::set_up(const std::string& name) {
  const std::string step = "bringing link " + name + " up";
  std::lock_guard lock(mutex_);
  auto link = fetch(sock_.get(), name, step);
  if (!link) fail(step, "link " + name + " does not exist", -NLE_NODEV);
  bring_up(sock_.get(), link->raw.get(), step);
}

void Netlink::set_mtu(const std::string& name, unsigned mtu) {
  const std::string step = "setting the MTU of link " + name + " to " + std::to_string(mtu);
  std::lock_guard lock(mutex_);
  auto link = fetch(sock_.get(), name, step);
  if (!link) fail(step, "link " + name + " does not exist", -NLE_NODEV);
  LinkPtr change(rtnl_link_alloc());
  if (!change) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_mtu(change.get(), mtu);
  if (const int err = rtnl_link_change(sock_.get(), link->raw.get(), change.get(), 0); err < 0) {
    fail_libnl(step, err);
  }
}

bool Netlink::add_address(const std::string& link, const std::string& cidr) {
  const std::string step = "adding address " + cidr + " to link " + link;
  AddrPtr local = parse_prefix(step, cidr);
  std::lock_guard lock(mutex_);
  const int index = require_index(sock_.get(), link, step);
  RtAddrPtr addr(rtnl_addr_alloc());
  if (!addr) fail_libnl(step, -NLE_NOMEM);
  rtnl_addr_set_ifindex(addr.get(), index);
  rtnl_addr_set_family(addr.get(), nl_addr_get_family(local.get()));
  if (const int err = rtnl_addr_set_local(addr.get(), local.get()); err < 0) fail_libnl(step, err);
  // Usable at once: the address is ours by reservation, duplicate detection has nothing to find.
  if (nl_addr_get_family(local.get()) == AF_INET6) rtnl_addr_set_flags(addr.get(), IFA_F_NODAD);
  const int err = rtnl_addr_add(sock_.get(), addr.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err == -NLE_EXIST) return false;
  if (err < 0) fail_libnl(step, err);
  return true;
}

bool Netlink::add_route(const std::string& dst, const std::string& link,
                        const std::string& source) {
  const std::string step = "adding a route to " + dst + " via link " + link;
  AddrPtr to = parse_prefix(step, dst);
  AddrPtr from;
  if (!source.empty()) {
    from = parse_prefix(step, source + (source.find(':') == std::string::npos ? "/32" : "/128"));
    if (nl_addr_get_family(from.get()) != nl_addr_get_family(to.get())) {
      fail(step, "source " + source + " is not of the family of " + dst, -NLE_INVAL);
    }
  }
  std::lock_guard lock(mutex_);
  RoutePtr route = route_to(step, to.get(), require_index(sock_.get(), link, step));
  if (nl_addr_get_family(to.get()) == AF_INET) rtnl_route_set_scope(route.get(), RT_SCOPE_LINK);
  if (from) {
    if (const int err = rtnl_route_set_pref_src(route.get(), from.get()); err < 0) {
      fail_libnl(step, err);
    }
  }
  const int err = rtnl_route_add(sock_.get(), route.get(), NLM_F_CREATE | NLM_F_EXCL);
  if (err == -NLE_EXIST) return false;
  if (err < 0) fail_libnl(step, err);
  return true;
}

bool Netlink::delete_route(const std::string& dst, const std::string& link) {
  const std::string step = "deleting the route to " + dst + " via link " + link;
  AddrPtr to = parse_prefix(step, dst);
  std::lock_guard lock(mutex_);
  auto found = fetch(sock_.get(), link, step);
  if (!found) return false;  // the kernel dropped its routes with it
  RoutePtr route = route_to(step, to.get(), found->link.index);
  const int err = rtnl_route_delete(sock_.get(), route.get(), 0);
  if (err == -NLE_OBJ_NOTFOUND || err == -NLE_NODEV) return false;
  if (err < 0) fail_libnl(step, err);
  return true;
}

std::vector<std::string> Netlink::addresses(const std::string& link) {
  const std::string step = "listing the addresses of link " + link;
  std::lock_guard lock(mutex_);
  const int index = require_index(sock_.get(), link, step);
  nl_cache* raw = nullptr;
  const int err = rtnl_addr_alloc_cache(sock_.get(), &raw);
  CachePtr cache(raw);
  if (err < 0) fail_libnl(step, err);
  std::vector<std::string> out;
  for (nl_object* obj = nl_cache_get_first(cache.get()); obj; obj = nl_cache_get_next(obj)) {
    auto* addr = reinterpret_cast<rtnl_addr*>(obj);
    if (rtnl_addr_get_ifindex(addr) != index) continue;
    if (nl_addr* local = rtnl_addr_get_local(addr)) out.push_back(prefix_text(local));
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Netlink::routes(const std::string& link) {
  const std::string step = "listing the routes via link " + link;
  std::lock_guard lock(mutex_);
  const int index = require_index(sock_.get(), link, step);
  nl_cache* raw = nullptr;
  const int err = rtnl_route_alloc_cache(sock_.get(), AF_UNSPEC, 0, &raw);
  CachePtr cache(raw);
  if (err < 0) fail_libnl(step, err);
  std::vector<std::string> out;
  for (nl_object* obj = nl_cache_get_first(cache.get()); obj; obj = nl_cache_get_next(obj)) {
    auto* route = reinterpret_cast<rtnl_route*>(obj);
    if (rtnl_route_get_table(route) != RT_TABLE_MAIN || rtnl_route_get_nnexthops(route) != 1) {
      continue;
    }
    if (rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(route, 0)) != index) continue;
    std::string text = prefix_text(rtnl_route_get_dst(route));
    if (nl_addr* src = rtnl_route_get_pref_src(route)) text += " src " + plain_text(src);
    out.push_back(text);
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace mvlan::kernel

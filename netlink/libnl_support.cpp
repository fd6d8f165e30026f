#include "netlink/libnl_support.h"

#include <arpa/inet.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <netlink/errno.h>
#include <netlink/route/link/macvlan.h>
#include <netlink/route/link/vlan.h>

#include <algorithm>
#include <cstring>

#include "netlink/libnl_kernel.h"

namespace mvlan::kernel::libnl {
namespace {

static_assert(kLibnlInvalid == -NLE_INVAL);

std::string libnl_text(int err) {
  return std::string(nl_geterror(err)) + " (libnl error " + std::to_string(err) + ")";
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

}  // namespace

SocketPtr open_route_socket() {
  const std::string step = "opening a netlink route socket";
  SocketPtr sock(nl_socket_alloc());
  if (!sock) fail_libnl(step, -NLE_NOMEM);
  if (const int err = nl_connect(sock.get(), NETLINK_ROUTE); err < 0) fail_libnl(step, err);
  return sock;
}

void fail(const std::string& step, const std::string& problem, int code) {
  throw KernelError(step + ": " + problem, code);
}

void fail_libnl(const std::string& step, int err) {
  switch (-err) {
    case NLE_PERM:
    case NLE_NOACCESS:
      fail(step, "permission denied; the plugin needs CAP_NET_ADMIN (run it as root)", err);
    case NLE_NOMEM:
      fail(step, "the kernel or libnl ran out of memory; retry, and check the host's memory", err);
    default: fail(step, "the kernel refused: " + libnl_text(err), err);
  }
}

void check_name(const std::string& step, const std::string& name) {
  if (name.size() > kMaxLinkNameLength) {
    fail(step,
         "the link name '" + name + "' is " + std::to_string(name.size()) +
             " characters, the kernel allows at most " + std::to_string(kMaxLinkNameLength) +
             "; choose a shorter name",
         -NLE_RANGE);
  }
  const bool bad_char = std::any_of(name.begin(), name.end(), [](char c) {
    return c == '/' || c == ':' || c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f' || c == '\0';
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

int require_index(nl_sock* sock, const std::string& link, const std::string& step) {
  auto found = fetch(sock, link, step);
  if (!found) fail(step, "link " + link + " does not exist", -NLE_NODEV);
  return found->link.index;
}

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

std::string prefix_text(nl_addr* addr) {
  return plain_text(addr) + "/" + std::to_string(nl_addr_get_prefixlen(addr));
}

std::string plain_text(nl_addr* addr) {
  char text[INET6_ADDRSTRLEN] = "";
  inet_ntop(nl_addr_get_family(addr), nl_addr_get_binary_addr(addr), text, sizeof text);
  return text;
}

}  // namespace mvlan::kernel::libnl

// Addresses and routes on links: what host access (the "shim" link) needs from the kernel.
#include <linux/rtnetlink.h>
#include <netlink/errno.h>

#include "netlink/libnl_kernel.h"
#include "netlink/libnl_support.h"

namespace mvlan::kernel {
namespace {

using namespace libnl;

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

}  // namespace mvlan::kernel

#include "tests/support/netlink_probe.h"

#include <netlink/errno.h>
#include <netlink/route/link/veth.h>

#include <algorithm>

#include "netlink/libnl_support.h"

namespace mvlan::test {

using namespace kernel::libnl;

void create_veth_pair(const std::string& a, const std::string& b) {
  const std::string step = "creating veth pair " + a + " / " + b;
  check_name(step, a);
  check_name(step, b);
  SocketPtr sock = open_route_socket();
  LinkPtr link(rtnl_link_veth_alloc());
  if (!link) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_name(link.get(), a.c_str());
  LinkPtr peer(rtnl_link_veth_get_peer(link.get()));  // a new reference to the peer
  rtnl_link_set_name(peer.get(), b.c_str());
  if (const int err = rtnl_link_add(sock.get(), link.get(), NLM_F_CREATE | NLM_F_EXCL); err < 0) {
    if (err == -NLE_EXIST) {
      fail(step, "a link named " + a + " or " + b + " already exists; delete it first", err);
    }
    fail_libnl(step, err);
  }
}

void set_mtu(const std::string& name, unsigned mtu) {
  const std::string step = "setting the MTU of link " + name + " to " + std::to_string(mtu);
  SocketPtr sock = open_route_socket();
  auto link = fetch(sock.get(), name, step);
  if (!link) fail(step, "link " + name + " does not exist", -NLE_NODEV);
  LinkPtr change(rtnl_link_alloc());
  if (!change) fail_libnl(step, -NLE_NOMEM);
  rtnl_link_set_mtu(change.get(), mtu);
  if (const int err = rtnl_link_change(sock.get(), link->raw.get(), change.get(), 0); err < 0) {
    fail_libnl(step, err);
  }
}

std::vector<std::string> link_addresses(const std::string& link) {
  const std::string step = "listing the addresses of link " + link;
  SocketPtr sock = open_route_socket();
  const int index = require_index(sock.get(), link, step);
  nl_cache* raw = nullptr;
  const int err = rtnl_addr_alloc_cache(sock.get(), &raw);
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

std::vector<std::string> link_routes(const std::string& link) {
  const std::string step = "listing the routes via link " + link;
  SocketPtr sock = open_route_socket();
  const int index = require_index(sock.get(), link, step);
  nl_cache* raw = nullptr;
  const int err = rtnl_route_alloc_cache(sock.get(), AF_UNSPEC, 0, &raw);
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

}  // namespace mvlan::test

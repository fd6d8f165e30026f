#pragma once
// What every libnl call of the kernel layer shares: owning pointers for libnl objects, the mapping
// of libnl errors to KernelError messages, link-name checks and link lookups. Only netlink/ and
// the test-side probe (tests/support/netlink_probe) include it.

#include <netlink/addr.h>
#include <netlink/cache.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/route.h>
#include <netlink/socket.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "netlink/kernel.h"

namespace mvlan::kernel::libnl {

// Owns a libnl object of type T, given back with `release` (its _put or _free function).
template <class T, void (*release)(T*)>
struct Releaser {
  void operator()(T* object) const { release(object); }
};
using LinkPtr = std::unique_ptr<rtnl_link, Releaser<rtnl_link, rtnl_link_put>>;
using RtAddrPtr = std::unique_ptr<rtnl_addr, Releaser<rtnl_addr, rtnl_addr_put>>;
using RoutePtr = std::unique_ptr<rtnl_route, Releaser<rtnl_route, rtnl_route_put>>;
using CachePtr = std::unique_ptr<nl_cache, Releaser<nl_cache, nl_cache_free>>;
using AddrPtr = std::unique_ptr<nl_addr, Releaser<nl_addr, nl_addr_put>>;
using SocketPtr = std::unique_ptr<nl_sock, Releaser<nl_sock, nl_socket_free>>;

// A route socket bound to the calling thread's network namespace.
SocketPtr open_route_socket();

// Throws KernelError("<step>: <problem>", code).
[[noreturn]] void fail(const std::string& step, const std::string& problem, int code);
// The fixes every step shares; step-specific causes are explained before this is reached.
[[noreturn]] void fail_libnl(const std::string& step, int err);

// Mirrors the kernel's dev_valid_name(), because libnl silently truncates a long name.
void check_name(const std::string& step, const std::string& name);
// False for a name no link can have, which libnl must not be asked about (it would truncate it).
bool name_can_exist(const std::string& name);

// The raw libnl object too, for callers that need flags or the hardware type.
struct Fetched {
  LinkPtr raw;
  Link link;
};
std::optional<Fetched> fetch(nl_sock* sock, const std::string& name, const std::string& step);
std::vector<Link> dump(nl_sock* sock, const std::string& step);
// The index of `link`; a KernelError naming it when there is no such link.
int require_index(nl_sock* sock, const std::string& link, const std::string& step);

// "192.0.2.7/32" -> an nl_addr; anything else is the caller's mistake, named in the error.
AddrPtr parse_prefix(const std::string& step, const std::string& text);
// Plain text of an IP nl_addr followed by /length (nl_addr2str leaves out a full length).
std::string prefix_text(nl_addr* addr);
std::string plain_text(nl_addr* addr);

}  // namespace mvlan::kernel::libnl

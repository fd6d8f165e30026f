#pragma once
// The kernel as the network driver sees it. Handlers receive a Kernel&, so their logic is tested
// with a fake one; the real one (Netlink) is tested in network namespaces and user-mode Linux.

#include <optional>
#include <string>
#include <vector>

#include "common/error.h"
#include "common/mac.h"
#include "common/macvlan_mode.h"

namespace mvlan::kernel {

using MacvlanMode = mvlan::MacvlanMode;

using Mac = mvlan::Mac;

struct Link {
  std::string name;
  int index = 0;
  std::string kind;  // "macvlan", "vlan", "dummy", "veth", "" for a plain device
  unsigned mtu = 0;
  bool up = false;
  Mac mac{};
  int parent_index = 0;                     // the lower link of a macvlan or vlan, 0 otherwise
  int vlan_id = 0;                          // for kind "vlan"
  std::optional<MacvlanMode> macvlan_mode;  // for kind "macvlan"
};

// libnl's -NLE_INVAL, the kernel's EINVAL (this header does not include libnl's errno.h).
inline constexpr int kLibnlInvalid = -7;

// Every failure names the object, the step and, where one is known, the fix, e.g.
// "creating VLAN link eth0.100 (VLAN 100 on eth0): the kernel has no 802.1Q VLAN support
// (module 8021q); load it with 'modprobe 8021q'". An Error of kind Kernel, so callers handle it
// like any other; `code` is the (negative) libnl error number, for telling refusals apart.
struct KernelError : Error {
  KernelError(const std::string& message, int libnl_code)
      : Error(ErrorKind::Kernel, message), code(libnl_code) {}
  // The kernel found an argument invalid: how it refuses a second macvlan on a passthru parent.
  bool invalid_argument() const { return code == kLibnlInvalid; }
  int code;
};

class Kernel {
 public:
  virtual ~Kernel() = default;

  virtual std::optional<Link> find_link(const std::string& name) = 0;
  virtual std::vector<Link> list_links() = 0;

  // Creates `name` as VLAN `vid` on `base` and brings it up.
  virtual void create_vlan(const std::string& base, int vid, const std::string& name) = 0;
  // Creates a dummy link and brings it up.
  virtual void create_dummy(const std::string& name) = 0;
  // Creates a macvlan link on `parent`; mtu 0 inherits the parent's. The link is left down:
  // Docker moves it into the container and brings it up there.
  virtual void create_macvlan(const std::string& parent, const std::string& name, MacvlanMode mode,
                              const Mac& mac, unsigned mtu) = 0;
  // Returns false when no such link exists (not an error: Leave and DeleteEndpoint are idempotent).
  virtual bool delete_link(const std::string& name) = 0;
  virtual void set_up(const std::string& name) = 0;

  // Adds `cidr` ("192.0.2.254/32", "2001:db8::fe/128") to `link`; false when the link already has
  // it, so reconciliation may call it again.
  virtual bool add_address(const std::string& link, const std::string& cidr) = 0;
  // A route in the main table to the prefix `dst` straight out of `link` (no gateway), preferring
  // the source address `source` ("" lets the kernel choose); false when that route exists.
  virtual bool add_route(const std::string& dst, const std::string& link,
                         const std::string& source) = 0;
  // Deletes the route add_route made; false when there is none (or `link` is gone, with it).
  virtual bool delete_route(const std::string& dst, const std::string& link) = 0;
};

}  // namespace mvlan::kernel

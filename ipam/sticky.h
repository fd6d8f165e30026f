#pragma once
// The sticky-address rules (README "Sticky addresses") as decisions over a name's binding, so
// that the SQLite and the etcd store follow one set of rules; where bindings live, and how a
// store applies a decision atomically, is the store's business.

#include <optional>
#include <string>

#include "ipam/pool.h"

namespace mvlan::ipam::sticky {

// A grant binds its name in a sticky pool; a gateway, or a request without a name, never does.
bool binds(const Pool& pool, const AddressRequest& request);

// The address a named request gets back: its binding's, while parked. A held one (another
// container still has the name: renamed since) gives nothing back; the name gets a fresh address.
std::optional<Address> returned(const std::optional<Binding>& mine);

// What becomes of the address a name was bound to when the name is bound to `to`.
enum class Previous {
  Stays,    // no binding before, or the very same address
  Freed,    // it was parked for the name: free again
  Unnamed,  // a container holds it: it keeps its grant, without a name
};
Previous previous(const std::optional<Binding>& before, const Address& to);

// A release of a bound address parks it; of a parked one does nothing (Docker releases twice).
enum class Release { Free, Park, Nothing };
Release on_release(const std::optional<Binding>& bound);

// A request naming an address that is granted takes it only when the address is parked (the
// parked name's binding is dropped: it gets a fresh address next time); else it is a Conflict.
bool may_take(const std::optional<Binding>& at_address);

// For forget: the binding to drop; throws NotFound (no such binding) or Conflict (a container
// holds its address: only a parked binding can be forgotten).
Binding forgettable(const Pool& pool, const std::string& name, const std::optional<Binding>& b);

}  // namespace mvlan::ipam::sticky

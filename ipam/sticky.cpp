#include "ipam/sticky.h"

#include "common/error.h"
#include "common/quote.h"
#include "ipam/allocator.h"

namespace mvlan::ipam::sticky {

bool binds(const Pool& pool, const AddressRequest& request) {
  return pool.sticky && !request.gateway && !request.name.empty();
}

std::optional<Address> returned(const std::optional<Binding>& mine) {
  if (mine && mine->parked_at) return mine->address;
  return std::nullopt;
}

Previous previous(const std::optional<Binding>& before, const Address& to) {
  if (!before || before->address == to) return Previous::Stays;
  return before->parked_at ? Previous::Freed : Previous::Unnamed;
}

Release on_release(const std::optional<Binding>& bound) {
  if (!bound) return Release::Free;
  return bound->parked_at ? Release::Nothing : Release::Park;
}

bool may_take(const std::optional<Binding>& at_address) {
  return at_address && at_address->parked_at;
}

Binding forgettable(const Pool& pool, const std::string& name, const std::optional<Binding>& b) {
  if (!b) throw not_found("no name " + quote(name, 120) + " is bound in " + describe(pool));
  if (!b->parked_at) {
    throw conflict(quote(name, 120) + " holds " + b->address.str() + " in " + describe(pool) +
                   " now; only a parked binding can be forgotten");
  }
  return *b;
}

}  // namespace mvlan::ipam::sticky

#include "ipam/pool_errors.h"

#include "common/quote.h"

namespace mvlan::ipam {

Error unknown_pool_id(const std::string& pool_id) {
  return not_found("unknown PoolID " + quote(pool_id, 120) +
                   ": mvlan holds no such pool (it was released, or never requested here)");
}

Error unknown_pool(const std::string& pool_id) {
  return not_found("unknown pool " + quote(pool_id, 120) + "; mvlan status lists them");
}

Error no_default_pool(Family family) {
  return Error(ErrorKind::Exhausted,
               std::string("no free ") + name_of(family) +
                   " pool left in MVLAN_DEFAULT_POOLS; give the network an explicit --subnet");
}

Error address_in_use(const Pool& pool, const Address& a, const std::string& holder) {
  return conflict("Address " + a.str() + " is already in use in " + describe(pool) + " (held as " +
                  holder + ")");
}

Error released_outside(const Pool& pool, const Address& a) {
  return invalid("Address " + a.str() + " is outside " + describe(pool) + "; nothing was released");
}

Error no_gateway_address(const Pool& pool) {
  return Error(ErrorKind::Exhausted, "no free address for the gateway in " + describe(pool));
}

Error pool_full(const Pool& pool, const std::optional<Bounds>& bounds, std::string_view where) {
  std::string m = "no free address left in " + describe(pool) + ": all " +
                  to_string(capacity(bounds)) + " usable addresses are in use";
  m.append(where);
  return Error(ErrorKind::Exhausted, m);
}

}  // namespace mvlan::ipam

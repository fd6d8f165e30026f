#pragma once
// The errors both pool stores throw, worded once: the SQLite and the etcd store must tell a user
// the same thing about the same mistake, and a PoolID from the request is quoted the same safe way.

#include <optional>
#include <string>
#include <string_view>

#include "common/error.h"
#include "ipam/allocator.h"

namespace mvlan::ipam {

// NotFound: a request names a PoolID this store does not hold.
Error unknown_pool_id(const std::string& pool_id);
// NotFound: `mvlan forget --pool` names a pool this store does not hold.
Error unknown_pool(const std::string& pool_id);
// Exhausted: no default pool of the family is free.
Error no_default_pool(Family family);
// Conflict: a request names an address another grant holds; `holder` says which.
Error address_in_use(const Pool& pool, const Address& a, const std::string& holder);
// Invalid: a release names an address outside the pool.
Error released_outside(const Pool& pool, const Address& a);
// Exhausted: the pool has no free address to make its gateway.
Error no_gateway_address(const Pool& pool);
// Exhausted: every dynamic address of the pool is granted; `where` qualifies the count
// (" on every host" when the set is shared by a cluster).
Error pool_full(const Pool& pool, const std::optional<Bounds>& bounds, std::string_view where);

}  // namespace mvlan::ipam

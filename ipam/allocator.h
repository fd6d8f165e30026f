#pragma once
// The IPAM's rules, independent of where state is kept: what a valid pool request is, which
// addresses are never granted, and how the next free address is found in O(log n) through the
// "taken runs" of an address set (maximal intervals of consecutive granted addresses).

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ipam/address.h"
#include "ipam/pool.h"

namespace mvlan::ipam {

inline constexpr const char* kLocalSpace = "LocalDefault";
inline constexpr const char* kGlobalSpace = "GlobalDefault";

struct Bounds {
  Address lo, hi;
};
using Run = Bounds;

// The taken run with the greatest lower end <= x, if any.
using RunLookup = std::function<std::optional<Run>(const Address& x)>;
// An existing pool in the same address space that overlaps the candidate, if any.
using OverlapLookup = std::function<std::optional<Prefix>(const Prefix& candidate)>;

// Checks every field of a RequestPool; throws Error(Invalid) naming the field and what is valid.
PoolSpec validate_pool_request(const PoolRequest& request);

// The subnet a pool request gets: its own, else the first default pool nothing overlaps.
// Throws Error(Exhausted) when no default pool is free.
Prefix choose_subnet(const PoolSpec& spec, const std::vector<DefaultPool>& defaults,
                     const OverlapLookup& overlapping);
// Pools of one address space may overlap only when each gives its own ip-range; throws
// Error(Conflict) when the request and `other`, which overlaps `subnet`, may not.
void check_may_share(const PoolSpec& spec, const Prefix& subnet, const Pool& other);
// "LocalDefault/192.0.2.0/24" (+ "/<ip-range>"), then "#2", "#3"... while `taken` says it is.
std::string unique_pool_id(const PoolSpec& spec, const Prefix& subnet,
                           const std::function<bool(const std::string&)>& taken);
// The pool a request creates once its subnet and id are chosen (set_id is the store's).
Pool new_pool(std::string id, const PoolSpec& spec, const Prefix& subnet);

// "pool 192.0.2.0/24 (ip-range 192.0.2.128/25)": how messages name a pool.
std::string describe(const Pool& pool);
// Checks an address a request names (--ip, --aux-address, --gateway) against the pool: family,
// inside the subnet, not reserved by rule. Throws Error(Invalid) saying which and what is valid.
void check_requested(const Pool& pool, const Address& a);

// Why `a` can never be granted from `subnet` (network, broadcast, subnet-router anycast), if so.
std::optional<std::string> reserved_by_rule(const Prefix& subnet, const Address& a);
// The subnet without the addresses reserved by rule; empty for none.
std::optional<Bounds> usable_bounds(const Prefix& subnet);
// Where dynamic addresses come from: the ip-range (else the subnet), minus rule reservations.
std::optional<Bounds> dynamic_bounds(const Pool& pool);
u128 capacity(const std::optional<Bounds>& bounds);

std::optional<Address> first_free(const RunLookup& runs, const Address& from, const Address& to);
// The next dynamic address: after `cursor` with wrap-around (round-robin) or lowest free.
std::optional<Address> pick_dynamic(const RunLookup& runs, const Bounds& bounds,
                                    const std::optional<Address>& cursor, AllocationOrder order);
// A gateway with no address given: the first free of the ip-range, else of the subnet.
std::optional<Address> pick_gateway(const RunLookup& runs, const Pool& pool);

// MVLAN_DEFAULT_POOLS: "198.18.0.0/15/24,fd6d:766c:616e::/48/64"; throws Error(Invalid).
std::vector<DefaultPool> parse_default_pools(std::string_view text);
inline constexpr const char* kDefaultPools = "198.18.0.0/15/24,fd6d:766c:616e::/48/64";
std::optional<Prefix> pick_default_pool(const std::vector<DefaultPool>& defaults, Family family,
                                        const OverlapLookup& overlapping);

}  // namespace mvlan::ipam

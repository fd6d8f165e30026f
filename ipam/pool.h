#pragma once
// What the IPAM keeps: pools (a subnet, an optional ip-range) grouped in address sets (pools that
// share one set can never hand out the same address), and the addresses granted from them.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "ipam/address.h"

namespace mvlan::ipam {

// How dynamic addresses are picked.
enum class AllocationOrder {
  RoundRobin,  // continue after the last grant and wrap: a released address rests a full cycle
  Lowest,      // lowest free first, as Docker's built-in IPAM (reuses a released address at once)
};

std::optional<AllocationOrder> parse_allocation_order(std::string_view text);
const char* name_of(AllocationOrder order);

// The raw RequestPool fields, as Docker sends them (strings unvalidated).
struct PoolRequest {
  std::string address_space;
  std::string pool;                            // "" = pick a free default pool
  std::string sub_pool;                        // --ip-range, "" = none
  std::map<std::string, std::string> options;  // --ipam-opt
  bool v6 = false;
};

// A validated request. An empty subnet means "pick one of the default pools".
struct PoolSpec {
  std::string address_space;
  Family family = Family::V4;
  std::optional<Prefix> subnet;
  std::optional<Prefix> range;
  AllocationOrder order = AllocationOrder::RoundRobin;
  bool sticky = true;  // --ipam-opt sticky=false: names are not bound to addresses
};

struct Pool {
  std::string id;
  std::string address_space;
  Prefix subnet;
  std::optional<Prefix> range;
  AllocationOrder order = AllocationOrder::RoundRobin;
  bool sticky = true;
  long long set_id = 0;
};

// How an address was granted. Docker sends --ip and --aux-address alike (a specific address, no
// MAC), so "static" covers both; `mvlan status` tells them apart by the endpoints that hold them.
enum class GrantKind { Gateway, Static, Dynamic };
const char* name_of(GrantKind kind);
std::optional<GrantKind> parse_grant_kind(std::string_view text);

struct AddressRequest {
  std::optional<Address> address;  // none = any free address
  bool gateway = false;            // RequestAddressType = com.docker.network.gateway
  std::string mac;                 // com.docker.network.endpoint.macaddress, informational
  // The key the grant is bound to in a sticky pool (binding_key() of the container's name, which
  // engines >= 29 send); "" binds nothing.
  std::string name;
};

// A name bound to an address in a pool: the name gets that address back when it asks again. A
// parked binding's address is released by its container but kept for the name: no other grant
// takes it while another address is free.
struct Binding {
  std::string name;
  Address address;
  std::optional<long long> parked_at;  // unix milliseconds; none while a container holds it
};

struct Allocation {
  Address address;
  std::string pool_id;
  GrantKind kind = GrantKind::Dynamic;
  std::string mac;
};

// `cidr/size` entries of MVLAN_DEFAULT_POOLS: carve `size`-long pools out of `cidr`.
struct DefaultPool {
  Prefix base;
  int size = 0;
};

struct PoolStatus {
  Pool pool;
  std::vector<Allocation> allocations;  // ordered by address, parked ones included
  std::optional<Address> cursor;        // the last dynamic grant in this pool's range
  u128 dynamic_capacity = 0;
  std::vector<Binding> bindings;  // ordered by name
};

}  // namespace mvlan::ipam

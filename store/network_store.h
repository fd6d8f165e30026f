#pragma once
// The network driver's state: networks, endpoints, and which parent links mvlan created. Typed
// values in and out (text only in SQLite); every change is one durable transaction.

#include <optional>
#include <string>
#include <vector>

#include "common/mac.h"
#include "common/macvlan_mode.h"
#include "ipam/address.h"
#include "store/database.h"

namespace mvlan::store {

// One subnet of a network (IPv4Data/IPv6Data) and its gateway.
struct SubnetRecord {
  ipam::Family family = ipam::Family::V4;
  // None for a network stored before subnets were recorded: one per family, prefix unknown.
  std::optional<ipam::Prefix> subnet;
  std::optional<ipam::Address> gateway;
  std::string gateway_pool;  // the PoolID when mvlan reserved the gateway itself, else ""
};

struct NetworkRecord {
  std::string id;
  std::string parent;
  MacvlanMode mode = MacvlanMode::Bridge;
  unsigned mtu = 0;  // 0: inherit the parent's
  bool internal = false;
  bool ipv6 = false;
  std::vector<SubnetRecord> subnets;  // in Docker's order, IPv4 first
  // -o host_access: the host's address on the network, reserved in pool host_pool.
  std::optional<ipam::Address> host_access;
  std::string host_pool;
};

// The kinds of parent link mvlan makes itself.
enum class ParentKind { Vlan, Dummy };
const char* name_of(ParentKind kind);  // "vlan", "dummy": as stored, and as logs say it

struct OwnedParent {
  std::string name;
  ParentKind kind = ParentKind::Dummy;
  std::string base;  // the VLAN's base link
  int vlan_id = 0;
};

struct EndpointRecord {
  std::string id;
  std::string network_id;
  Mac mac{};
  std::optional<ipam::Cidr> address4;  // as Docker gave it
  std::optional<ipam::Cidr> address6;
  std::string link;  // the macvlan link's name in the host namespace
};

// What removing a network leaves for the kernel to clean.
struct NetworkRemoval {
  std::vector<std::string> endpoint_links;
  std::optional<OwnedParent> orphan_parent;  // mvlan made it and no network uses it any more
};

class NetworkStore {
 public:
  explicit NetworkStore(Database& db) : db_(db) {}

  // Stores the network; `made` records a parent link mvlan is about to create for it.
  void add_network(const NetworkRecord& network, const std::optional<OwnedParent>& made);
  std::optional<NetworkRecord> network(const std::string& id);
  std::vector<NetworkRecord> networks();
  std::vector<NetworkRecord> networks_on_parent(const std::string& parent);
  NetworkRemoval remove_network(const std::string& id);  // no-op result when unknown

  std::optional<OwnedParent> owned_parent(const std::string& name);
  std::vector<OwnedParent> owned_parents();
  void forget_parent(const std::string& name);

  void add_endpoint(const EndpointRecord& endpoint);
  std::optional<EndpointRecord> endpoint(const std::string& id);
  std::vector<EndpointRecord> endpoints();
  // Endpoints whose IPv4 or IPv6 address is `address`, whatever its prefix length.
  std::vector<EndpointRecord> endpoints_holding(const ipam::Address& address);
  bool remove_endpoint(const std::string& id);
  bool link_name_taken(const std::string& link);

 private:
  std::optional<NetworkRecord> load_network(const std::string& id);
  std::vector<SubnetRecord> load_subnets(const std::string& network_id);
  Database& db_;
};

}  // namespace mvlan::store

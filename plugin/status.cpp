#include "plugin/status.h"

#include <filesystem>
#include <iomanip>
#include <set>

#include "ipam/database.h"
#include "ipam/network_store.h"
#include "ipam/sqlite_pool_store.h"
#include "plugin/json_fields.h"
#include "plugin/log.h"
#include "plugin/network_driver.h"

namespace mvlan::plugin {
namespace {

// What an address is for: a static grant is a container's (--ip) when an endpoint holds it or it
// came with an endpoint MAC, else an --aux-address kept out of allocation; "host" is a network's
// -o host_access address (held by the host's shim link).
struct EndpointAddresses {
  std::set<std::string> endpoints;
  std::set<std::string> hosts;  // "PoolID address"
  bool count(const std::string& address) const { return endpoints.count(address) > 0; }
};

const char* use_of(const ipam::Allocation& a, const EndpointAddresses& held) {
  if (a.kind == ipam::GrantKind::Gateway) return "gateway";
  if (held.hosts.count(a.pool_id + " " + a.address.str())) return "host";
  if (a.kind == ipam::GrantKind::Static && a.mac.empty() && !held.count(a.address.str())) {
    return "reserved";
  }
  return "container";
}

EndpointAddresses endpoint_addresses(const std::vector<store::EndpointRecord>& endpoints,
                                     const std::vector<store::NetworkRecord>& networks) {
  EndpointAddresses out;
  for (const auto& e : endpoints) {
    for (const auto& cidr : {e.address4, e.address6}) {
      if (auto c = ipam::Cidr::parse(cidr)) out.endpoints.insert(c->address.str());
    }
  }
  for (const auto& n : networks) {
    if (!n.host_access.empty()) out.hosts.insert(n.host_pool + " " + n.host_access);
  }
  return out;
}

json to_json(const ipam::PoolStatus& s, const EndpointAddresses& held) {
  json allocations = json::array();
  for (const auto& a : s.allocations) {
    json entry{
        {"Address", a.address.str()}, {"Kind", use_of(a, held)}, {"Grant", ipam::name_of(a.kind)}};
    if (!a.mac.empty()) entry["MacAddress"] = a.mac;
    allocations.push_back(entry);
  }
  json pool{{"PoolID", s.pool.id},
            {"AddressSpace", s.pool.address_space},
            {"Subnet", s.pool.subnet.str()},
            {"IPRange", s.pool.range ? s.pool.range->str() : ""},
            {"Allocation", ipam::name_of(s.pool.order)},
            {"AddressSet", s.pool.set_id},
            {"DynamicCapacity", ipam::to_string(s.dynamic_capacity)},
            {"LastDynamic", s.cursor ? s.cursor->str() : ""},
            {"Allocations", allocations}};
  return pool;
}

json to_json(const store::NetworkRecord& n, const std::vector<store::EndpointRecord>& endpoints) {
  json eps = json::array();
  for (const auto& e : endpoints) {
    if (e.network_id != n.id) continue;
    eps.push_back({{"EndpointID", e.id},
                   {"MacAddress", e.mac},
                   {"Address", e.address4},
                   {"AddressIPv6", e.address6},
                   {"Link", e.link}});
  }
  return json{{"NetworkID", n.id},     {"Parent", n.parent},        {"Mode", n.mode},
              {"MTU", n.mtu},          {"Internal", n.internal},    {"IPv6", n.ipv6},
              {"Gateway", n.gateway4}, {"GatewayIPv6", n.gateway6}, {"Endpoints", eps},
              {"HostAccess", n.host_access},
              {"HostLink", n.host_access.empty() ? "" : NetworkDriver::host_link_name(n.id)}};
}

void print_networks(const std::vector<store::NetworkRecord>& networks,
                    const std::vector<store::EndpointRecord>& endpoints,
                    const std::vector<store::OwnedParent>& owned, std::ostream& out) {
  for (const auto& n : networks) {
    bool made = false;
    for (const auto& p : owned) made = made || p.name == n.parent;
    out << "network " << n.id.substr(0, 12) << "  parent " << n.parent
        << (made ? " (made by mvlan)" : "") << "  mode " << n.mode << "  mtu "
        << (n.mtu ? std::to_string(n.mtu) : "inherited") << (n.internal ? "  internal" : "")
        << "\n";
    if (!n.host_access.empty()) {
      out << "    host access " << n.host_access << "  link " << NetworkDriver::host_link_name(n.id)
          << "\n";
    }
    for (const auto& e : endpoints) {
      if (e.network_id != n.id) continue;
      out << "    endpoint " << e.id.substr(0, 12) << "  " << e.mac << "  "
          << (e.address4.empty() ? "-" : e.address4)
          << (e.address6.empty() ? "" : "  " + e.address6) << "  link " << e.link << "\n";
    }
  }
}

void print_text(const std::vector<ipam::PoolStatus>& pools, const EndpointAddresses& held,
                std::ostream& out) {
  if (pools.empty()) {
    out << "no pools\n";
    return;
  }
  for (const auto& s : pools) {
    out << "pool " << s.pool.id << "\n"
        << "  subnet " << s.pool.subnet.str() << "  ip-range "
        << (s.pool.range ? s.pool.range->str() : "-") << "  allocation "
        << ipam::name_of(s.pool.order) << "  address set " << s.pool.set_id << "\n"
        << "  granted " << s.allocations.size() << ", dynamic capacity "
        << ipam::to_string(s.dynamic_capacity) << ", last dynamic "
        << (s.cursor ? s.cursor->str() : "-") << "\n";
    for (const auto& a : s.allocations) {
      out << "    " << std::left << std::setw(40) << a.address.str() << std::setw(10)
          << use_of(a, held) << a.mac << "\n";
    }
  }
}

}  // namespace

int print_status(const StatusOptions& options, std::ostream& out) {
  const std::string path = database_path(options.state_dir);
  if (!std::filesystem::exists(path)) {
    log::error("no state database at " + path + " (has mvlan serve run with --state-dir " +
               options.state_dir + "?)");
    return 1;
  }
  try {
    store::Database db(path, store::Database::Mode::ReadOnly);
    ipam::SqlitePoolStore pools(db, {});
    const auto all = pools.status();
    store::NetworkStore network_store(db);
    const auto networks = network_store.networks();
    const auto endpoints = network_store.endpoints();
    const auto held = endpoint_addresses(endpoints, networks);
    if (options.json) {
      json doc{{"Pools", json::array()}, {"Networks", json::array()}};
      for (const auto& s : all) doc["Pools"].push_back(to_json(s, held));
      for (const auto& n : networks) doc["Networks"].push_back(to_json(n, endpoints));
      out << doc.dump(2) << "\n";
    } else {
      print_text(all, held, out);
      print_networks(networks, endpoints, network_store.owned_parents(), out);
    }
    return 0;
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
}

}  // namespace mvlan::plugin

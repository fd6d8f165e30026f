#include "plugin/status.h"

#include <ctime>
#include <filesystem>
#include <iomanip>
#include <map>
#include <memory>
#include <set>

#include "store/database.h"
#include "etcd/host_lease.h"
#include "ipam/etcd_pool_store.h"
#include "store/network_store.h"
#include "ipam/sqlite_pool_store.h"
#include "plugin/json_fields.h"
#include "common/log.h"
#include "plugin/network_driver.h"
#include "plugin/network_subnets.h"

namespace mvlan::plugin {
namespace {

// What an address is for: a static grant is a container's (--ip) when an endpoint holds it or it
// came with an endpoint MAC, else an --aux-address kept out of allocation; "host" is a network's
// -o host_access address (held by the host's shim link).
struct EndpointAddresses {
  std::map<std::string, std::string> endpoints;  // address -> the endpoint ID holding it
  std::set<std::string> hosts;                   // "PoolID address"
  bool count(const std::string& address) const { return endpoints.count(address) > 0; }
  std::string endpoint_of(const std::string& address) const {
    auto it = endpoints.find(address);
    return it == endpoints.end() ? "" : it->second;
  }
};

// Text columns: an endpoint by the 12 characters `docker network inspect` shows, "-" for none.
std::string short_or_dash(const std::string& endpoint_id) {
  return endpoint_id.empty() ? "-" : endpoint_id.substr(0, 12);
}

// "2026-12-02T19:20:01Z", for a binding's parked_at.
std::string utc(long long unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

const ipam::Binding* binding_at(const ipam::PoolStatus& s, const ipam::Address& a) {
  for (const auto& b : s.bindings) {
    if (b.address == a) return &b;
  }
  return nullptr;
}

const char* use_of(const ipam::Allocation& a, const EndpointAddresses& held,
                   const ipam::Binding* bound = nullptr) {
  if (bound && bound->parked_at) return "parked";
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
      if (auto c = ipam::Cidr::parse(cidr)) out.endpoints.emplace(c->address.str(), e.id);
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
    const ipam::Binding* bound = binding_at(s, a.address);
    json entry{{"Address", a.address.str()},
               {"Kind", use_of(a, held, bound)},
               {"Grant", ipam::name_of(a.kind)}};
    if (!a.mac.empty()) entry["MacAddress"] = a.mac;
    if (const auto ep = held.endpoint_of(a.address.str()); !ep.empty()) entry["EndpointID"] = ep;
    if (bound) entry["Name"] = bound->name;
    allocations.push_back(entry);
  }
  json bindings = json::array();
  for (const auto& b : s.bindings) {
    json entry{{"Name", b.name},
               {"Address", b.address.str()},
               {"State", b.parked_at ? "parked" : "held"}};
    if (b.parked_at) entry["ParkedSince"] = utc(*b.parked_at);
    if (const auto ep = held.endpoint_of(b.address.str()); !ep.empty() && !b.parked_at) {
      entry["EndpointID"] = ep;
    }
    bindings.push_back(entry);
  }
  json pool{{"PoolID", s.pool.id},
            {"AddressSpace", s.pool.address_space},
            {"Subnet", s.pool.subnet.str()},
            {"IPRange", s.pool.range ? s.pool.range->str() : ""},
            {"Allocation", ipam::name_of(s.pool.order)},
            {"AddressSet", s.pool.set_id},
            {"DynamicCapacity", ipam::to_string(s.dynamic_capacity)},
            {"LastDynamic", s.cursor ? s.cursor->str() : ""},
            {"Sticky", s.pool.sticky},
            {"Allocations", allocations},
            {"Bindings", bindings}};
  return pool;
}

// The gateway Join answers for an endpoint address: its subnet's, none on an internal network.
std::string gateway_of(const store::NetworkRecord& n, const std::string& address) {
  const auto subnet = n.internal ? std::nullopt : subnet_of(n, address);
  return subnet ? subnet->gateway : "";
}

json to_json(const store::NetworkRecord& n, const std::vector<store::EndpointRecord>& endpoints) {
  json eps = json::array();
  for (const auto& e : endpoints) {
    if (e.network_id != n.id) continue;
    eps.push_back({{"EndpointID", e.id},
                   {"MacAddress", e.mac},
                   {"Address", e.address4},
                   {"AddressIPv6", e.address6},
                   {"Gateway", gateway_of(n, e.address4)},
                   {"GatewayIPv6", gateway_of(n, e.address6)},
                   {"Link", e.link}});
  }
  json subnets = json::array();
  for (const auto& s : n.subnets) {
    subnets.push_back({{"Subnet", s.subnet}, {"Gateway", s.gateway}});
  }
  return json{{"NetworkID", n.id},       {"Parent", n.parent},     {"Mode", n.mode},
              {"MTU", n.mtu},            {"Internal", n.internal}, {"IPv6", n.ipv6},
              {"Subnets", subnets},      {"Endpoints", eps},       {"HostAccess", n.host_access},
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
    for (const auto& s : n.subnets) {
      out << "    subnet " << (s.subnet.empty() ? "unknown (stored by an older mvlan)" : s.subnet) << "  gateway "
          << (s.gateway.empty() ? "-" : s.gateway) << (s.gateway_pool.empty() ? "" : " (mvlan's pick)")
          << "\n";
    }
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
        << (s.cursor ? s.cursor->str() : "-") << ", sticky " << (s.pool.sticky ? "yes" : "no")
        << "\n";
    for (const auto& a : s.allocations) {
      const ipam::Binding* bound = binding_at(s, a.address);
      out << "    " << std::left << std::setw(40) << a.address.str() << std::setw(10)
          << use_of(a, held, bound);
      if (bound) {
        out << std::setw(19) << a.mac << bound->name << "\n";
      } else {
        out << a.mac << "\n";
      }
    }
    for (const auto& b : s.bindings) {
      out << "  bound " << std::left << std::setw(24) << b.name << " " << std::setw(40)
          << b.address.str()
          << (b.parked_at ? "parked since " + utc(*b.parked_at) : std::string("held")) << "\n";
    }
  }
}

const char* use_of(const ipam::ClusterGrant& g, const std::string& this_host,
                   const EndpointAddresses& held) {
  if (g.parked_at) return "parked";
  if (g.kind == ipam::GrantKind::Gateway) return "gateway";
  if (g.shared) return "reserved";
  if (!g.holders.empty() && g.holders[0].first == this_host) {
    return use_of(ipam::Allocation{g.address, g.holders[0].second, g.kind, g.mac}, held);
  }
  return "container";
}

// The endpoint holding a cluster grant: as its host recorded it in etcd, else (for this host's
// grants recorded before that, or when etcd failed during CreateEndpoint) this host's own store.
std::string endpoint_of(const ipam::ClusterGrant& g, const std::string& this_host,
                        const EndpointAddresses& held) {
  if (!g.endpoint.empty() || g.shared || g.holders.empty()) return g.endpoint;
  return g.holders[0].first == this_host ? held.endpoint_of(g.address.str()) : "";
}

std::string holders_text(const ipam::ClusterGrant& g) {
  std::string out;
  for (const auto& [host, pool] : g.holders) out += (out.empty() ? "" : ",") + host;
  return out;
}

// The IPAM of every host sharing the etcd cluster, then this host's networks.
json cluster_json(const ipam::ClusterStatus& c, const std::string& this_host,
                  const EndpointAddresses& held) {
  json sets = json::array();
  for (const auto& set : c.sets) {
    json pools = json::array();
    for (const auto& [host, p] : set.pools) {
      pools.push_back({{"Host", host},
                       {"PoolID", p.id},
                       {"IPRange", p.range ? p.range->str() : ""},
                       {"Allocation", ipam::name_of(p.order)}});
    }
    json grants = json::array();
    for (const auto& g : set.grants) {
      json holders = json::array();
      for (const auto& [host, pool] : g.holders) holders.push_back({{"Host", host}, {"PoolID", pool}});
      json entry{{"Address", g.address.str()},
                 {"Kind", use_of(g, this_host, held)},
                 {"Grant", ipam::name_of(g.kind)},
                 {"Shared", g.shared},
                 {"Holders", holders}};
      if (!g.shared && !g.holders.empty()) entry["Host"] = g.holders[0].first;
      if (!g.mac.empty()) entry["MacAddress"] = g.mac;
      if (const auto ep = endpoint_of(g, this_host, held); !ep.empty()) entry["EndpointID"] = ep;
      if (!g.name.empty()) entry["Name"] = g.name;
      if (g.parked_at) entry["ParkedSince"] = utc(*g.parked_at);
      grants.push_back(entry);
    }
    sets.push_back({{"AddressSpace", set.space},
                    {"Subnet", set.subnet.str()},
                    {"Pools", pools},
                    {"Allocations", grants}});
  }
  return json{{"ThisHost", this_host}, {"LiveHosts", c.live_hosts}, {"Sets", sets}};
}

void print_cluster(const ipam::ClusterStatus& c, const std::string& endpoints,
                   const std::string& this_host, const EndpointAddresses& held,
                   std::ostream& out) {
  out << "etcd " << endpoints << "  this host " << this_host << "  live hosts";
  for (const auto& h : c.live_hosts) out << " " << h;
  out << (c.live_hosts.empty() ? " -" : "") << "\n";
  if (c.sets.empty()) out << "no pools on any host\n";
  for (const auto& set : c.sets) {
    out << "address set " << set.space << " " << set.subnet.str() << "  granted "
        << set.grants.size() << " on all hosts\n";
    for (const auto& [host, p] : set.pools) {
      out << "  host " << host << "  pool " << p.id << "  ip-range "
          << (p.range ? p.range->str() : "-") << "  allocation " << ipam::name_of(p.order)
          << "\n";
    }
    for (const auto& g : set.grants) {
      out << "    " << std::left << std::setw(40) << g.address.str() << std::setw(10)
          << use_of(g, this_host, held) << std::setw(12)
          << (g.shared ? "all hosts" : holders_text(g)) << std::setw(14)
          << short_or_dash(endpoint_of(g, this_host, held));
      if (g.name.empty()) {
        out << g.mac << "\n";
      } else {
        out << std::setw(19) << g.mac << g.name
            << (g.parked_at ? "  parked since " + utc(*g.parked_at) : std::string()) << "\n";
      }
    }
  }
}

int print_etcd_status(const StatusOptions& options, std::ostream& out) {
  std::vector<store::NetworkRecord> networks;
  std::vector<store::EndpointRecord> endpoints;
  std::vector<store::OwnedParent> owned;
  const std::string path = database_path(options.state_dir);
  std::unique_ptr<store::Database> db;
  if (std::filesystem::exists(path)) {
    db = std::make_unique<store::Database>(path, store::Database::Mode::ReadOnly);
    store::NetworkStore network_store(*db);
    networks = network_store.networks();
    endpoints = network_store.endpoints();
    owned = network_store.owned_parents();
  }
  etcd::Client client(options.ipam.etcd_settings);
  ipam::EtcdPoolStore pools(client, options.ipam.prefix, options.ipam.host_id, {});
  const auto cluster = pools.cluster_status();
  const auto held = endpoint_addresses(endpoints, networks);
  if (options.json) {
    json doc{{"Cluster", cluster_json(cluster, options.ipam.host_id, held)},
             {"Networks", json::array()}};
    for (const auto& n : networks) doc["Networks"].push_back(to_json(n, endpoints));
    out << doc.dump(2) << "\n";
  } else {
    print_cluster(cluster, client.endpoints(), options.ipam.host_id, held, out);
    print_networks(networks, endpoints, owned, out);
  }
  return 0;
}

}  // namespace

int release_host(const ReleaseHostOptions& options, std::ostream& out) {
  try {
    etcd::Client client(options.ipam.etcd_settings);
    ipam::EtcdPoolStore pools(client, options.ipam.prefix, options.ipam.host_id, {});
    if (pools.host_alive(options.host) && !options.force) {
      log::error("host " + options.host + " is alive: its plugin keeps " + options.ipam.prefix +
                 "hosts/" + options.host +
                 " registered in etcd; stop it first (the key expires within " +
                 std::to_string(etcd::HostLease::kTtlSeconds) +
                 " s), or pass --force if that host is gone for good; nothing was released");
      return 1;
    }
    const size_t freed = pools.release_host(options.host);
    out << "released " << freed << " addresses and the pools of host " << options.host
        << "; shared gateways and aux addresses stay\n";
    return 0;
  } catch (const std::exception& e) {
    log::error(e.what());
    return 1;
  }
}

int print_status(const StatusOptions& options, std::ostream& out) {
  if (options.ipam.etcd) {
    try {
      return print_etcd_status(options, out);
    } catch (const std::exception& e) {
      log::error(e.what());
      return 1;
    }
  }
  const auto path = existing_database(options.state_dir);
  if (!path) return 1;
  try {
    store::Database db(*path, store::Database::Mode::ReadOnly);
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

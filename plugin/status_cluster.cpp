// Every host's pools and grants in the etcd cluster (status_render.h).

#include <iomanip>

#include "common/short_id.h"
#include "plugin/status_render.h"

namespace mvlan::plugin {
namespace {

// Text columns: an endpoint by the 12 characters `docker network inspect` shows, "-" for none.
std::string short_or_dash(const std::string& endpoint_id) {
  return endpoint_id.empty() ? "-" : short_id(endpoint_id);
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

}  // namespace

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
      for (const auto& [host, pool] : g.holders)
        holders.push_back({{"Host", host}, {"PoolID", pool}});
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
                   const std::string& this_host, const EndpointAddresses& held, std::ostream& out) {
  out << "etcd " << endpoints << "  this host " << this_host << "  live hosts";
  for (const auto& h : c.live_hosts) out << " " << h;
  out << (c.live_hosts.empty() ? " -" : "") << "\n";
  if (c.sets.empty()) out << "no pools on any host\n";
  for (const auto& set : c.sets) {
    out << "address set " << set.space << " " << set.subnet.str() << "  granted "
        << set.grants.size() << " on all hosts\n";
    for (const auto& [host, p] : set.pools) {
      out << "  host " << host << "  pool " << p.id << "  ip-range "
          << (p.range ? p.range->str() : "-") << "  allocation " << ipam::name_of(p.order) << "\n";
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

}  // namespace mvlan::plugin

// This host's pools and what each address is used for (status_render.h).

#include <ctime>
#include <iomanip>

#include "plugin/status_render.h"

namespace mvlan::plugin {
namespace {

const ipam::Binding* binding_at(const ipam::PoolStatus& s, const ipam::Address& a) {
  for (const auto& b : s.bindings) {
    if (b.address == a) return &b;
  }
  return nullptr;
}

}  // namespace

std::string utc(long long unix_ms) {
  const std::time_t t = static_cast<std::time_t>(unix_ms / 1000);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

const char* use_of(const ipam::Allocation& a, const EndpointAddresses& held,
                   const ipam::Binding* bound) {
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
      if (cidr) out.endpoints.emplace(cidr->address.str(), e.id);
    }
  }
  for (const auto& n : networks) {
    if (n.host_access) out.hosts.insert(n.host_pool + " " + n.host_access->str());
  }
  return out;
}

json pool_json(const ipam::PoolStatus& s, const EndpointAddresses& held) {
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
    json entry{
        {"Name", b.name}, {"Address", b.address.str()}, {"State", b.parked_at ? "parked" : "held"}};
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

void print_pools(const std::vector<ipam::PoolStatus>& pools, const EndpointAddresses& held,
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

}  // namespace mvlan::plugin

#include "store/network_store.h"

#include <map>

#include "common/error.h"

namespace mvlan::store {
namespace {

constexpr const char* kNetworkColumns =
    "SELECT id, parent, mode, mtu, internal, ipv6, host_access, host_pool FROM networks";
constexpr const char* kSubnetColumns =
    "SELECT network_id, family, subnet, gateway, gateway_pool FROM network_subnets";
constexpr const char* kEndpointColumns =
    "SELECT id, network_id, mac, address4, address6, link FROM endpoints";

// The text columns hold what name_of() wrote; anything else is a database mvlan did not write.
[[noreturn]] void unknown_value(const std::string& table, const std::string& row,
                                const std::string& column, const std::string& value) {
  throw Error(ErrorKind::Store, "the state database's " + table + " row " + row + " has " + column +
                                    " '" + value + "', which mvlan does not know");
}

// The column's value parsed by `T::parse`; none for "". Text that does not parse is a database
// mvlan did not write.
template <typename T>
std::optional<T> parse_column(const std::string& table, const std::string& row,
                              const std::string& column, const std::string& text) {
  if (text.empty()) return std::nullopt;
  auto value = T::parse(text);
  if (!value) unknown_value(table, row, column, text);
  return value;
}

NetworkRecord network_from(SQLite::Statement& s) {
  NetworkRecord n;
  n.id = s.getColumn(0).getString();
  n.parent = s.getColumn(1).getString();
  const std::string mode = s.getColumn(2).getString();
  const auto parsed = parse_macvlan_mode(mode);
  if (!parsed) unknown_value("networks", n.id, "mode", mode);
  n.mode = *parsed;
  n.mtu = static_cast<unsigned>(s.getColumn(3).getInt64());
  n.internal = s.getColumn(4).getInt() != 0;
  n.ipv6 = s.getColumn(5).getInt() != 0;
  n.host_access =
      parse_column<ipam::Address>("networks", n.id, "host_access", s.getColumn(6).getString());
  n.host_pool = s.getColumn(7).getString();
  return n;
}

SubnetRecord subnet_from(SQLite::Statement& s) {
  const std::string network = s.getColumn(0).getString();
  const int family = s.getColumn(1).getInt();
  if (family != 4 && family != 6) {
    unknown_value("network_subnets", network, "family", std::to_string(family));
  }
  return SubnetRecord{
      family == 4 ? ipam::Family::V4 : ipam::Family::V6,
      parse_column<ipam::Prefix>("network_subnets", network, "subnet", s.getColumn(2).getString()),
      parse_column<ipam::Address>("network_subnets", network, "gateway",
                                  s.getColumn(3).getString()),
      s.getColumn(4).getString()};
}

EndpointRecord endpoint_from(SQLite::Statement& s) {
  const std::string id = s.getColumn(0).getString();
  const std::string mac_text = s.getColumn(2).getString();
  const auto mac = parse_mac(mac_text);
  if (!mac) unknown_value("endpoints", id, "mac", mac_text);
  return EndpointRecord{
      id,
      s.getColumn(1).getString(),
      *mac,
      parse_column<ipam::Cidr>("endpoints", id, "address4", s.getColumn(3).getString()),
      parse_column<ipam::Cidr>("endpoints", id, "address6", s.getColumn(4).getString()),
      s.getColumn(5).getString()};
}

ParentKind kind_from(const std::string& name, const std::string& text) {
  for (const ParentKind kind : {ParentKind::Vlan, ParentKind::Dummy}) {
    if (text == name_of(kind)) return kind;
  }
  unknown_value("owned_parents", name, "kind", text);
}

OwnedParent parent_from(SQLite::Statement& s) {
  const std::string name = s.getColumn(0).getString();
  return OwnedParent{name, kind_from(name, s.getColumn(1).getString()), s.getColumn(2).getString(),
                     s.getColumn(3).getInt()};
}

}  // namespace

const char* name_of(ParentKind kind) {
  return kind == ParentKind::Vlan ? "vlan" : "dummy";
}

// Addresses are stored as canonical text (ipam::str_or, "" for none), so that endpoints_holding
// finds an address whatever spelling Docker used.
void NetworkStore::add_network(const NetworkRecord& n, const std::optional<OwnedParent>& made) {
  db_.write([&] {
    db_.bound(
           "INSERT INTO networks (id, parent, mode, mtu, internal, ipv6, host_access, host_pool) "
           "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
           n.id, n.parent, name_of(n.mode), static_cast<int64_t>(n.mtu), n.internal ? 1 : 0,
           n.ipv6 ? 1 : 0, ipam::str_or(n.host_access), n.host_pool)
        .exec();
    for (const auto& sub : n.subnets) {
      db_.bound(
             "INSERT INTO network_subnets (network_id, family, subnet, gateway, gateway_pool) "
             "VALUES (?, ?, ?, ?, ?)",
             n.id, sub.family == ipam::Family::V4 ? 4 : 6, ipam::str_or(sub.subnet),
             ipam::str_or(sub.gateway), sub.gateway_pool)
          .exec();
    }
    if (made) {
      db_.bound(
             "INSERT OR IGNORE INTO owned_parents (name, kind, base, vlan_id) VALUES (?, ?, ?, ?)",
             made->name, name_of(made->kind), made->base, made->vlan_id)
          .exec();
    }
  });
}

std::optional<NetworkRecord> NetworkStore::load_network(const std::string& id) {
  static const std::string sql = std::string(kNetworkColumns) + " WHERE id = ?";
  auto& s = db_.bound(sql.c_str(), id);
  if (!s.executeStep()) return std::nullopt;
  auto network = network_from(s);
  s.reset();
  network.subnets = load_subnets(id);
  return network;
}

std::vector<SubnetRecord> NetworkStore::load_subnets(const std::string& network_id) {
  static const std::string sql =
      std::string(kSubnetColumns) + " WHERE network_id = ? ORDER BY rowid";
  return rows(db_.bound(sql.c_str(), network_id), subnet_from);
}

std::optional<NetworkRecord> NetworkStore::network(const std::string& id) {
  return db_.read([&] { return load_network(id); });
}

std::vector<NetworkRecord> NetworkStore::networks() {
  return db_.read([&] {
    static const std::string sql = std::string(kNetworkColumns) + " ORDER BY created_at, id";
    std::vector<NetworkRecord> out = rows(db_.statement(sql.c_str()), network_from);
    static const std::string subnets_sql = std::string(kSubnetColumns) + " ORDER BY rowid";
    auto& r = db_.statement(subnets_sql.c_str());
    std::map<std::string, std::vector<SubnetRecord>> by_network;
    while (r.executeStep()) by_network[r.getColumn(0).getString()].push_back(subnet_from(r));
    for (auto& n : out) n.subnets = std::move(by_network[n.id]);
    return out;
  });
}

std::vector<NetworkRecord> NetworkStore::networks_on_parent(const std::string& parent) {
  return db_.read([&] {
    static const std::string sql = std::string(kNetworkColumns) + " WHERE parent = ? ORDER BY id";
    std::vector<NetworkRecord> out = rows(db_.bound(sql.c_str(), parent), network_from);
    for (auto& n : out) n.subnets = load_subnets(n.id);
    return out;
  });
}

NetworkRemoval NetworkStore::remove_network(const std::string& id) {
  return db_.write([&] {
    NetworkRemoval removal;
    auto network = load_network(id);
    if (!network) return removal;
    {
      auto& s = db_.bound("SELECT link FROM endpoints WHERE network_id = ?", id);
      while (s.executeStep()) removal.endpoint_links.push_back(s.getColumn(0).getString());
    }
    for (const char* sql : {"DELETE FROM endpoints WHERE network_id = ?",
                            "DELETE FROM network_subnets WHERE network_id = ?",
                            "DELETE FROM networks WHERE id = ?"}) {
      db_.bound(sql, id).exec();
    }
    auto& users = db_.bound("SELECT count(*) FROM networks WHERE parent = ?", network->parent);
    users.executeStep();
    if (users.getColumn(0).getInt64() == 0) {
      auto& p = db_.bound("SELECT name, kind, base, vlan_id FROM owned_parents WHERE name = ?",
                          network->parent);
      if (p.executeStep()) removal.orphan_parent = parent_from(p);
    }
    return removal;
  });
}

std::optional<OwnedParent> NetworkStore::owned_parent(const std::string& name) {
  return db_.read([&]() -> std::optional<OwnedParent> {
    auto& s = db_.bound("SELECT name, kind, base, vlan_id FROM owned_parents WHERE name = ?", name);
    if (!s.executeStep()) return std::nullopt;
    return parent_from(s);
  });
}

std::vector<OwnedParent> NetworkStore::owned_parents() {
  return db_.read([&] {
    return rows(db_.statement("SELECT name, kind, base, vlan_id FROM owned_parents ORDER BY name"),
                parent_from);
  });
}

void NetworkStore::forget_parent(const std::string& name) {
  db_.write([&] { db_.bound("DELETE FROM owned_parents WHERE name = ?", name).exec(); });
}

void NetworkStore::add_endpoint(const EndpointRecord& e) {
  db_.write([&] {
    db_.bound(
           "INSERT INTO endpoints (id, network_id, mac, address4, address6, link) "
           "VALUES (?, ?, ?, ?, ?, ?)",
           e.id, e.network_id, format_mac(e.mac), ipam::str_or(e.address4),
           ipam::str_or(e.address6), e.link)
        .exec();
  });
}

std::optional<EndpointRecord> NetworkStore::endpoint(const std::string& id) {
  return db_.read([&]() -> std::optional<EndpointRecord> {
    static const std::string sql = std::string(kEndpointColumns) + " WHERE id = ?";
    auto& s = db_.bound(sql.c_str(), id);
    if (!s.executeStep()) return std::nullopt;
    return endpoint_from(s);
  });
}

std::vector<EndpointRecord> NetworkStore::endpoints() {
  return db_.read([&] {
    static const std::string sql = std::string(kEndpointColumns) + " ORDER BY network_id, id";
    return rows(db_.statement(sql.c_str()), endpoint_from);
  });
}

std::vector<EndpointRecord> NetworkStore::endpoints_holding(const ipam::Address& address) {
  return db_.read([&] {
    // "A/<length>" sorts in ["A/", "A0"): '0' follows '/' in ASCII. A range keeps the index in use,
    // where LIKE or substr() would read every row.
    static const std::string sql = std::string(kEndpointColumns) +
                                   " WHERE (address4 >= ?1 AND address4 < ?2)"
                                   " OR (address6 >= ?1 AND address6 < ?2) ORDER BY id";
    const std::string text = address.str();
    return rows(db_.bound(sql.c_str(), text + "/", text + "0"), endpoint_from);
  });
}

bool NetworkStore::remove_endpoint(const std::string& id) {
  return db_.write([&] { return db_.bound("DELETE FROM endpoints WHERE id = ?", id).exec() > 0; });
}

bool NetworkStore::link_name_taken(const std::string& link) {
  return db_.read(
      [&] { return db_.bound("SELECT 1 FROM endpoints WHERE link = ?", link).executeStep(); });
}

}  // namespace mvlan::store

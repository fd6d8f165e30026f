// The state the network driver keeps: what a restart of the plugin finds again, and what
// removing a network leaves for the kernel to clean.

#include "store/network_store.h"

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "store/database.h"
#include "tests/support/addresses.h"
#include "tests/support/temp_dir.h"

using namespace mvlan;
using namespace mvlan::store;
using mvlan::test::address;
using mvlan::test::cidr;
using mvlan::test::prefix;
using mvlan::test::TempDir;

namespace {

// The database closed and opened again, as a plugin restart does.
struct Reopened {
  TempDir dir;
  std::unique_ptr<Database> db;
  std::unique_ptr<NetworkStore> networks;
  Reopened() { open(); }
  void restart() {
    networks.reset();
    db.reset();
    open();
  }

 private:
  void open() {
    db = std::make_unique<Database>(dir.db(), Database::Mode::ReadWrite);
    networks = std::make_unique<NetworkStore>(*db);
  }
};

NetworkRecord vlan_network(const char* id) {
  NetworkRecord n;
  n.id = id;
  n.parent = "eth9.100";
  n.mode = MacvlanMode::Private;
  n.mtu = 1400;
  n.ipv6 = true;
  n.subnets = {{ipam::Family::V4, prefix("192.0.2.0/24"), address("192.0.2.1"), ""},
               {ipam::Family::V6, prefix("2001:db8::/64"), address("2001:db8::1"), "p6"}};
  n.host_access = address("192.0.2.254");
  n.host_pool = "p4";
  return n;
}

}  // namespace

TEST_CASE("a network, its subnets, its endpoints and the parent mvlan made survive a restart",
          "[store]") {
  Reopened s;
  s.networks->add_network(vlan_network("n1"),
                          OwnedParent{"eth9.100", ParentKind::Vlan, "eth9", 100});
  s.networks->add_endpoint({"e1", "n1", *parse_mac("02:42:c0:00:02:02"), cidr("192.0.2.2/24"),
                            cidr("2001:db8::2/64"), "mvl1"});
  s.restart();

  const auto n = s.networks->network("n1");
  REQUIRE(n);
  CHECK(n->parent == "eth9.100");
  CHECK(n->mode == MacvlanMode::Private);
  CHECK(n->mtu == 1400);
  CHECK(n->ipv6);
  REQUIRE(n->subnets.size() == 2);
  CHECK(n->subnets[0].subnet == prefix("192.0.2.0/24"));
  CHECK(n->subnets[1].family == ipam::Family::V6);
  CHECK(n->subnets[1].gateway == address("2001:db8::1"));
  CHECK(n->subnets[1].gateway_pool == "p6");
  CHECK(n->host_access == address("192.0.2.254"));

  const auto parent = s.networks->owned_parent("eth9.100");
  REQUIRE(parent);
  CHECK(parent->kind == ParentKind::Vlan);
  CHECK(parent->base == "eth9");
  CHECK(parent->vlan_id == 100);

  const auto e = s.networks->endpoint("e1");
  REQUIRE(e);
  CHECK(e->link == "mvl1");
  CHECK(format_mac(e->mac) == "02:42:c0:00:02:02");
  CHECK(e->address4 == cidr("192.0.2.2/24"));
  CHECK(e->address6 == cidr("2001:db8::2/64"));
  // Found by the address alone, in any spelling: 2001:db8:0::2 is stored as 2001:db8::2.
  CHECK(s.networks->endpoints_holding(address("2001:db8:0::2")).size() == 1);
  CHECK(s.networks->endpoints_holding(address("192.0.2.3")).empty());
  CHECK(s.networks->endpoints_holding(address("192.0.2.22")).empty());
  CHECK(s.networks->link_name_taken("mvl1"));
}

TEST_CASE("removing a network leaves its endpoints' links, and its parent once no network uses it",
          "[store]") {
  Reopened s;
  s.networks->add_network(vlan_network("n1"),
                          OwnedParent{"eth9.100", ParentKind::Vlan, "eth9", 100});
  s.networks->add_network(vlan_network("n2"), std::nullopt);
  s.networks->add_endpoint(
      {"e1", "n1", *parse_mac("02:42:c0:00:02:02"), cidr("192.0.2.2/24"), std::nullopt, "mvl1"});
  CHECK(s.networks->networks_on_parent("eth9.100").size() == 2);

  const auto first = s.networks->remove_network("n1");
  CHECK(first.endpoint_links == std::vector<std::string>{"mvl1"});
  CHECK_FALSE(first.orphan_parent);  // n2 still runs on it
  CHECK_FALSE(s.networks->endpoint("e1"));

  const auto last = s.networks->remove_network("n2");
  REQUIRE(last.orphan_parent);
  CHECK(last.orphan_parent->name == "eth9.100");
  CHECK(s.networks->networks().empty());

  const auto unknown = s.networks->remove_network("n3");
  CHECK(unknown.endpoint_links.empty());
  CHECK_FALSE(unknown.orphan_parent);
}

TEST_CASE("a stored value mvlan did not write is a Store error naming the table, the row, the "
          "column and the value",
          "[store]") {
  for (const auto& [sql, expect] : std::vector<std::pair<std::string, std::string>>{
           {"UPDATE networks SET mode = 'bridged'", "networks row n1 has mode 'bridged'"},
           {"UPDATE networks SET host_access = '192.0.2.x'",
            "networks row n1 has host_access '192.0.2.x'"},
           {"UPDATE network_subnets SET subnet = '192.0.2.0/33' WHERE family = 4",
            "network_subnets row n1 has subnet '192.0.2.0/33'"},
           {"UPDATE network_subnets SET gateway = 'gw' WHERE family = 6",
            "network_subnets row n1 has gateway 'gw'"},
           {"UPDATE network_subnets SET family = 5 WHERE family = 6",
            "network_subnets row n1 has family '5'"},
           {"UPDATE endpoints SET address6 = '2001:db8::2'",
            "endpoints row e1 has address6 '2001:db8::2'"},
           {"UPDATE endpoints SET mac = '02:42'", "endpoints row e1 has mac '02:42'"}}) {
    INFO(sql);
    Reopened s;
    s.networks->add_network(vlan_network("n1"), std::nullopt);
    s.networks->add_endpoint({"e1", "n1", *parse_mac("02:42:c0:00:02:02"), cidr("192.0.2.2/24"),
                              cidr("2001:db8::2/64"), "mvl1"});
    s.db.reset();  // the store's statements are cached on its connection
    {
      SQLite::Database raw(s.dir.db(), SQLite::OPEN_READWRITE);
      raw.exec(sql);
    }
    s.restart();
    const std::string what = "the state database's " + expect + ", which mvlan does not know";
    const bool endpoint = expect.rfind("endpoints", 0) == 0;
    if (endpoint) {
      CHECK_THROWS_WITH(s.networks->endpoint("e1"), what);
      CHECK(s.networks->network("n1"));
    } else {
      CHECK_THROWS_WITH(s.networks->network("n1"), what);
      CHECK_THROWS_WITH(s.networks->networks(), what);
      CHECK(s.networks->endpoint("e1"));
    }
  }
}

TEST_CASE("a foreign or corrupt database file is refused and left untouched", "[store]") {
  TempDir dir;
  {
    SQLite::Database other(dir.db(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    other.exec("CREATE TABLE photos (id INTEGER)");
  }
  const auto size = std::filesystem::file_size(dir.db());
  CHECK_THROWS_WITH(store::Database(dir.db(), store::Database::Mode::ReadWrite),
                    Catch::Contains("not an mvlan database") && Catch::Contains(dir.db()));
  CHECK(std::filesystem::file_size(dir.db()) == size);

  TempDir garbage;
  {
    std::FILE* f = std::fopen(garbage.db().c_str(), "w");
    std::fputs("this is not sqlite at all, just some text that fills a header........", f);
    std::fclose(f);
  }
  CHECK_THROWS_WITH(store::Database(garbage.db(), store::Database::Mode::ReadWrite),
                    Catch::Contains(garbage.db()));
  CHECK(std::filesystem::exists(garbage.db()));
}
